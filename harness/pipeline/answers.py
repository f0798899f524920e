"""Grade final answers only: split every completion into thinking and answer, hand the grader the
answers, and give unfinished thinking its own verdict. Shared by the run loop and every ingest path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from harness.records import Completion, Grade, Item
from harness.task import Grader, Task
from harness.thinking import DEFAULT, Split, ThinkingFormat, split, unfinished_detail


def task_grader(task: Task, math_options: Any = None) -> Grader:
    """The task's grader; a math task's under `math_options` (a MathOptions: named conventions and
    flags) when given. Math tasks' grader factories take the options as their one argument."""
    if math_options is not None and task.kind == "math":
        return task.grader(math_options)  # type: ignore[call-arg]
    return task.grader()


def conventions_of(grader: Grader) -> str | None:
    """The named conventions a math grader grades under ("strict", "lenient, percent=strip"); None for
    graders without them."""
    from harness.grading.math import MathOptions
    from harness.grading.math.conventions import describe

    options = getattr(grader, "options", None)
    return describe(options) if isinstance(options, MathOptions) else None


def split_all(comps: Sequence[Completion], fmt: ThinkingFormat = DEFAULT) -> list[Split]:
    return [split(c.text, c.finish, c.thinking, fmt) for c in comps]


@dataclass(frozen=True, slots=True)
class Answered:
    """A batch's grades (per item, per completion) and its token totals, from one split of each
    completion into thinking and answer."""

    grades: list[list[Grade]]
    usage: "Usage"


def grade_answers(grader: Grader, batch: Sequence[tuple[Item, Sequence[Completion]]],
                  fmt: ThinkingFormat = DEFAULT) -> Answered:
    """Grades of each item's completions, judged on the final answers (an unfinished sample is
    `unfinished`, whatever its thinking held), and their usage. Each completion is split once."""
    splits = [split_all(comps, fmt) for _, comps in batch]
    graded = grader.grade([(item, [s.graded_text() for s in ss]) for (item, _), ss in zip(batch, splits)])
    out = []
    for (_, comps), ss, grades in zip(batch, splits, graded):
        out.append([Grade(None, None, "unfinished", None, unfinished_detail(c.finish)) if s.unfinished else g
                    for c, s, g in zip(comps, ss, grades)])
    return Answered(out, Usage.of((c, s) for (_, comps), ss in zip(batch, splits) for c, s in zip(comps, ss)))


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
    def of(answers: Iterable[tuple[Completion, Split]]) -> "Usage":
        """Totals over completions, each with its split. A sample without thinking has 0 thinking
        tokens; one with thinking but no count leaves the thinking total unknown (a partial sum
        would understate it)."""
        prompt = gen = think = None
        lat = None
        think_known = True
        for c, s in answers:
            if c.prompt_tokens is not None:
                prompt = (prompt or 0) + c.prompt_tokens
            if c.tokens is not None:
                gen = (gen or 0) + c.tokens
            if c.latency_s is not None:
                lat = (lat or 0.0) + c.latency_s
            t = c.thinking_tokens
            if t is None and s.thinking is None:
                t = 0
            if t is None:
                think_known = False
            else:
                think = (think or 0) + t
        return Usage(prompt, gen, think if think_known else None, lat)

    @staticmethod
    def sum(parts: Sequence["Usage"]) -> "Usage":
        """Totals over batches, each `Usage.of` at least one completion: what `Usage.of` over all
        their completions gives."""
        def total(values: list[Any]) -> Any:
            known = [v for v in values if v is not None]
            return sum(known) if known else None

        thinking = [p.thinking_tokens for p in parts]
        return Usage(total([p.prompt_tokens for p in parts]), total([p.completion_tokens for p in parts]),
                     None if any(t is None for t in thinking) or not parts else sum(thinking),  # type: ignore[arg-type]
                     total([p.latency_s for p in parts]))
