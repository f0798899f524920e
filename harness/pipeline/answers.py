"""Grade final answers only: split every completion into thinking and answer, hand the grader the
answers, and give unfinished thinking its own verdict. Shared by the run loop and every ingest path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from harness.records import Completion, Grade, Item
from harness.task import Grader
from harness.thinking import DEFAULT, Split, ThinkingFormat, split, unfinished_detail


def split_all(comps: Sequence[Completion], fmt: ThinkingFormat = DEFAULT) -> list[Split]:
    return [split(c.text, c.finish, c.thinking, fmt) for c in comps]


def grade_answers(grader: Grader, batch: Sequence[tuple[Item, Sequence[Completion]]],
                  fmt: ThinkingFormat = DEFAULT) -> list[list[Grade]]:
    """Grades of each item's completions, judged on the final answers; an unfinished sample is
    `unfinished`, whatever its thinking held."""
    splits = [split_all(comps, fmt) for _, comps in batch]
    graded = grader.grade([(item, [s.graded_text() for s in ss]) for (item, _), ss in zip(batch, splits)])
    out = []
    for (_, comps), ss, grades in zip(batch, splits, graded):
        out.append([Grade(None, None, "unfinished", None, unfinished_detail(c.finish)) if s.unfinished else g
                    for c, s, g in zip(comps, ss, grades)])
    return out


@dataclass(frozen=True, slots=True)
class Usage:
    """Token and time totals over samples: prompt, generated (thinking + answer), thinking, latency.
    Each is None when no sample reported it; `answer_tokens` is known where both parts are."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    thinking_tokens: int | None = None
    latency_s: float | None = None

    @property
    def answer_tokens(self) -> int | None:
        if self.completion_tokens is None or self.thinking_tokens is None:
            return None
        return self.completion_tokens - self.thinking_tokens

    @staticmethod
    def of(comps: Iterable[Completion], fmt: ThinkingFormat = DEFAULT) -> "Usage":
        """Totals over `comps`. A sample without thinking has 0 thinking tokens; one with thinking
        but no count leaves the thinking total unknown (a partial sum would understate it)."""
        prompt = gen = think = None
        lat = None
        think_known = True
        for c in comps:
            if c.prompt_tokens is not None:
                prompt = (prompt or 0) + c.prompt_tokens
            if c.tokens is not None:
                gen = (gen or 0) + c.tokens
            if c.latency_s is not None:
                lat = (lat or 0.0) + c.latency_s
            t = c.thinking_tokens
            if t is None and split(c.text, c.finish, c.thinking, fmt).thinking is None:
                t = 0
            if t is None:
                think_known = False
            else:
                think = (think or 0) + t
        return Usage(prompt, gen, think if think_known else None, lat)
