"""A fake backend for unit tests of the run loop: answers from a function of (prompt, seed), counts
calls, and can be told to die after some batches (to test what a crash loses)."""

from __future__ import annotations

import random
from typing import Callable, Sequence

from harness.records import Completion, Request, Sampling


class FakeBackend:
    name = "fake"

    def __init__(self, answer: Callable[[str, random.Random], str] | None = None, batch_size: int = 8,
                 die_after_batches: int | None = None):
        self.answer = answer or (lambda prompt, rng: f"so the answer is {rng.randint(0, 3)}")
        self.batch_size = batch_size
        self.die_after_batches = die_after_batches
        self.calls: list[list[tuple[str, int, int]]] = []  # per call: (prompt text, index, seed)
        self.closed = False

    def generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]:
        if self.die_after_batches is not None and len(self.calls) >= self.die_after_batches:
            raise RuntimeError("backend died")
        self.calls.append([(r.prompt.text, i, s) for r in requests for i, s in zip(r.indices, r.seeds)])
        return [[Completion(self.answer(r.prompt.text, random.Random(s)), "stop", 5) for s in r.seeds]
                for r in requests]

    @property
    def generated(self) -> int:
        return sum(len(c) for c in self.calls)

    def close(self) -> None:
        self.closed = True
