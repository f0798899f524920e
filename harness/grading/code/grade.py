"""Grading code: extract the program, run it with the item's tests in the sandbox, vote by behaviour.

Items of a code task carry, in `Item.fields`: `prompt_code` (what a base model continues),
`preamble` (code put before a chat answer's blocks: HumanEval's prompt, so its imports and helpers
exist), `entry_point`, `tests` (run after the program; they must run to the end to pass) and
`examples` (calls taken from the prompt's own examples, never from the hidden tests). `Item.gold` is
the reference program, used only to calibrate the item's time limit.

Behavioural majority vote: every program also evaluates the example calls; samples whose outputs
are identical form one vote class (`Grade.cls`), so two differently written but equivalent programs
vote together. Unparseable and timed-out samples do not vote. Without examples, identical programs
(same syntax tree) vote together. The vote never sees the tests' outcome.

Grade fields: `extracted` is the program that ran (without the tests), `canonical` the behaviour
signature (the outputs), `detail` what happened (which assertion failed, the exception, the timeout,
the time limit and how it was set, and any weakness of the sandbox on this machine).
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from typing import Sequence

from harness.records import Grade, Item, Verdict
from harness.sandbox import Job, Limits, Outcome, Sandbox
from harness.grading.base import classes_by_key
from harness.grading.code.extract import Extraction, extract_program, parse_quietly
from harness.grading.code.limits import ReferenceTimes, TimePolicy, item_key


@dataclass(frozen=True, slots=True)
class CodeResult:
    """Everything about one sample, for callers that want more than the Grade (e.g. `score`)."""

    grade: Grade
    extraction: Extraction
    outcome: Outcome | None
    time_limit_s: float


def verdict_of(outcome: Outcome) -> Verdict:
    if outcome.status == "passed":
        return "correct"
    if outcome.status == "timeout":
        return "timeout"
    if outcome.status == "syntax":
        return "unparseable"
    return "incorrect"


def behaviour_key(ex: Extraction, outcome: Outcome | None, has_examples: bool) -> str | None:
    """The vote key: the outputs on the prompt's examples; a crash on definition is one behaviour;
    no key for samples without a program, with a syntax error or that ran out of time."""
    if ex.program is None or outcome is None or outcome.status in ("syntax", "timeout"):
        return None
    if outcome.status == "error" and outcome.stage == "program":
        return f"crash: {outcome.error}"
    if outcome.status == "exited" and outcome.outputs is None:
        return None
    if has_examples:
        return None if outcome.outputs is None else _bounded("\n".join(outcome.outputs))
    tree = parse_quietly(ex.program)
    return None if tree is None else "ast:" + hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]


def _bounded(key: str, cap: int = 1000) -> str:
    """A long signature keeps its head for reading and a hash of the whole for equality."""
    if len(key) <= cap:
        return key
    return key[:200] + " ... #" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class CodeGrader:
    """The Grader for code tasks. One sandbox pool for its lifetime; `close()` frees it."""

    def __init__(self, task: str = "code", *, sandbox: Sandbox | None = None, policy: TimePolicy | None = None,
                 times: ReferenceTimes | None = None, limits: Limits | None = None, workers: int | None = None):
        self.task = task
        self.policy = policy or TimePolicy()
        self.sandbox = sandbox or Sandbox(limits=limits, workers=workers)
        self._own_sandbox = sandbox is None
        self.times = times or ReferenceTimes()

    def close(self) -> None:
        if self._own_sandbox:
            self.sandbox.close()

    # -- time limits -------------------------------------------------------------------------------

    def time_limits(self, items: Sequence[Item]) -> dict[str, tuple[float, str]]:
        """Item id -> (limit in seconds, how it was set); references not yet timed here run now."""
        keys = {it.id: item_key(self.task, it.id, it.gold, it.fields["tests"]) for it in items}
        todo = list({it.id: it for it in items if not self.times.get(keys[it.id])[0]}.values())
        if any(not it.gold for it in todo):  # no reference to time: the fallback limit applies
            self.times.put_many({keys[it.id]: None for it in todo if not it.gold})
            todo = [it for it in todo if it.gold]
        if todo:
            jobs = [Job(it.gold, it.fields["tests"], tuple(it.fields.get("examples", ())),
                        timeout_s=self.policy.fallback_s) for it in todo]
            outcomes = self.sandbox.run_many(jobs)
            self.times.put_many({keys[it.id]: (o.wall_s if o.passed else None) for it, o in zip(todo, outcomes)})
        out = {}
        for it in items:
            ref = self.times.get(keys[it.id])[1]
            limit = self.policy.limit(ref)
            how = (f"{self.policy.multiple:g} x reference {ref:.3f} s, floor {self.policy.floor_s:g} s" if ref is not None
                   else "default: no reference solution passed here" if it.gold else "default: no reference solution")
            out[it.id] = (limit, how)
        return out

    # -- grading -----------------------------------------------------------------------------------

    def results(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[CodeResult]]:
        limits = self.time_limits([item for item, _ in batch])
        plan: list[tuple[int, int, Extraction, Job | None]] = []
        for i, (item, responses) in enumerate(batch):
            f = item.fields
            for j, response in enumerate(responses):
                ex = extract_program(response, prompt_code=f["prompt_code"], entry_point=f["entry_point"],
                                     preamble=f.get("preamble", ""))
                job = None if ex.program is None else Job(ex.program, f["tests"], tuple(f.get("examples", ())),
                                                          timeout_s=limits[item.id][0])
                plan.append((i, j, ex, job))
        runnable = [p for p in plan if p[3] is not None]
        outcomes = dict(zip(((i, j) for i, j, _, _ in runnable), self.sandbox.run_many([p[3] for p in runnable])))
        out: list[list[CodeResult]] = [[] for _ in batch]
        for i, j, ex, _ in plan:
            item = batch[i][0]
            outcome = outcomes.get((i, j))
            limit, how = limits[item.id]
            has_examples = bool(item.fields.get("examples"))
            key = behaviour_key(ex, outcome, has_examples)
            if outcome is None:
                verdict: Verdict = "unparseable"
                detail = f"unparseable: {ex.reason}"
            else:
                verdict = verdict_of(outcome)
                detail = f"{outcome.describe()} | {ex.kind} answer | time limit {limit:.2f} s ({how})"
                if not has_examples:
                    detail += " | vote by identical program (no examples in the prompt)"
            grade = Grade(extracted=ex.program, canonical=key, verdict=verdict, cls=None, detail=detail)
            out[i].append(CodeResult(grade, ex, outcome, limit))
        for row in out:
            classes = classes_by_key([r.grade.canonical for r in row])
            row[:] = [CodeResult(_with_cls(r.grade, c), r.extraction, r.outcome, r.time_limit_s)
                      for r, c in zip(row, classes)]
        return out

    def grade(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[Grade]]:
        return [[r.grade for r in row] for row in self.results(batch)]


def _with_cls(g: Grade, cls: int | None) -> Grade:
    return Grade(extracted=g.extracted, canonical=g.canonical, verdict=g.verdict, cls=cls, detail=g.detail)
