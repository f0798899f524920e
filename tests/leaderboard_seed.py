"""A seeded store for the leaderboard's tests: two models, two tasks, two nights of the small one,
made by the real run loop with a scripted backend, so every number a page shows is known.

Items: `arith` items 0-9 and `arith_b` (arith's items 10-19 as a second task), k = 4.
- "70b" (70.6B, llama): every sample right except items 9 and 19 (all four wrong, same answer).
- "phi" (14.7B, phi), night 1 (seed 0): items 0-4 and 10-14 right, the rest wrong.
- "phi", night 2 (seed 1): items 0-4 right 4/4; 5-6 right 3/4; 7-9 right 1/4 (majority wrong);
  10-17 right, 18-19 wrong.
Latest scores (maj@k / pass@1 / pass@4):
  phi arith 70 / 72.5 / 100, phi arith_b 80 / 80 / 80, 70b arith 90 / 90 / 90, 70b arith_b 90 / 90 / 90.
maj@k phi vs 70b: 70b alone solves arith 7, 8 and arith_b 18; phi alone solves none.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from harness.data import Source
from harness.models import ModelSpec
from harness.records import Completion, Request, Sampling
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks.arith import ARITH, make_items

ALL_ITEMS = make_items(20)
ARITH_B = replace(ARITH, name="arith_b", load=lambda source: ALL_ITEMS[10:20],
                  description="arith items 10-19 (test task)")
PHI = ModelSpec(name="phi", backend="hf", model="fake/phi", params_b=14.7, family="phi")
BIG = ModelSpec(name="70b", backend="hf", model="fake/70b", params_b=70.6, family="llama")
K = 4


def _item_index(prompt: str) -> int:
    for i, it in enumerate(ALL_ITEMS):
        if it.fields["question"] in prompt:
            return i
    raise AssertionError("prompt of no known item")


class ScriptedBackend:
    """Answers item i's sample s right when `right(i, s, seed)`, else with gold + 1 (one wrong class)."""

    name = "scripted"
    batch_size = 16

    def __init__(self, right: Callable[[int, int, int], bool]):
        self.right = right

    def generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]:
        out = []
        for req in requests:
            i = _item_index(req.prompt.text)
            gold = int(ALL_ITEMS[i].gold)
            out.append([Completion(f"Let me think. The answer is {gold if self.right(i, s, params.seed) else gold + 1}",
                                   "stop", 7) for s in req.indices])
        return out

    def close(self) -> None:
        pass


def big_right(i: int, s: int, seed: int) -> bool:
    return i not in (9, 19)


def phi_right(i: int, s: int, seed: int) -> bool:
    if seed == 0:
        return i < 5 or 10 <= i < 15
    if i < 5 or 10 <= i < 18:
        return True
    if i in (5, 6):
        return s != 0
    if i in (7, 8, 9):
        return s == 0
    return False


def _run(store: Store, spec: ModelSpec, right: Callable[[int, int, int], bool], seed: int) -> None:
    run(spec, [ARITH, ARITH_B], K, store, Source(limit=10), sampling={"seed": seed},
        backend_factory=lambda s: ScriptedBackend(right), progress=False)


_TEMPLATE: Path | None = None


def seed_store(path: Path) -> Path:
    """The seeded store at `path`: made once per test process, then copied (the file is closed
    between operations, so a copy is a complete store)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        template = Path(tempfile.mkdtemp(prefix="lb-seed-")) / "seed.duckdb"
        atexit.register(shutil.rmtree, template.parent, True)
        store = Store(template)
        _run(store, PHI, phi_right, 0)
        _run(store, BIG, big_right, 0)
        _run(store, PHI, phi_right, 1)
        _TEMPLATE = template
    shutil.copyfile(_TEMPLATE, path)
    return path


if __name__ == "__main__":
    import sys
    print(seed_store(Path(sys.argv[1])))


# -- a task beyond the item picker's cap --------------------------------------------------------
# `arith_long`: 1,205 arith items, one sample each from "phi", every one right; each sample has a
# separate thinking field (3 tokens) and its answer in LaTeX: "So $x = GOLD$ and the answer is GOLD".
LONG_ITEMS = make_items(1205)
ARITH_LONG = replace(ARITH, name="arith_long", load=lambda source: LONG_ITEMS,
                     description="1,205 arith items (test task)")
LONG_THINKING = "First multiply, then subtract what was given away."


class LongBackend:
    name = "scripted"
    batch_size = 256

    def __init__(self) -> None:
        self.gold = {it.fields["question"]: it.gold for it in LONG_ITEMS}

    def generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]:
        out = []
        for req in requests:
            gold = next(g for q, g in self.gold.items() if q in req.prompt.text)
            out.append([Completion(f"So $x = {gold}$ and the answer is {gold}", "stop", 9,
                                   thinking=LONG_THINKING, thinking_tokens=3) for _ in req.indices])
        return out

    def close(self) -> None:
        pass


def seed_long_store(path: Path) -> Path:
    """A store with one run of `arith_long` by "phi" (about two seconds)."""
    run(PHI, [ARITH_LONG], 1, Store(path), Source(), backend_factory=lambda s: LongBackend(), progress=False)
    return path


def seed_queue(path: Path, export: Path) -> Path:
    """The seeded store with a training queue made by `harness teach`'s functions: phi's own-sample
    items (arith 7, 8, 9: pass rate 1/4) queued and exported to `export`, then with 70b as teacher
    arith_b 18 (phi 0/4, 70b 4/4) queued too and left pending."""
    from harness.analysis.teach import export_sft, queue_teachable

    seed_store(path)
    store = Store(path)
    queue_teachable(store, "phi")
    export_sft(store, "phi", export)
    queue_teachable(store, "phi", teacher="70b")
    return path
