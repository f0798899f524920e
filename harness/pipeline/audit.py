"""A second opinion on a stored run: another grader judges the same extracted answers, and where it
disagrees with the stored verdict (correct against not correct) the sample is recorded.

Math tasks only, with Math-Verify as the second grader (`harness.grading.math.second_opinion`, in a
process of its own). Per task it stores a summary (`audits`: samples judged, disagreements, both
graders' pass@1 over the judged samples) and every disagreement (`audit_disagreements`), so the
leaderboard can show how much of a score depends on the grader. A sample the second grader could not
judge (no answer extracted, an error, a timeout) is counted but never a disagreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from harness.errors import HarnessError, UnknownTask
from harness.grading.math.extract import gold_answer
from harness.store import AuditDisagreementRow, AuditRow, Store, now

Opinion = Callable[[Sequence[tuple[str, str | None]]], list[bool | None]]


@dataclass(frozen=True, slots=True)
class AuditResult:
    summary: AuditRow
    disagreements: tuple[AuditDisagreementRow, ...]

    @property
    def rate(self) -> float | None:
        s = self.summary
        return s.n_disagree / s.n_checked if s.n_checked else None


def math_tasks(store: Store, run_id: str, tasks: Sequence[str] | None = None) -> list[str]:
    """The run's tasks a math second opinion applies to: registered math tasks (or those asked for)."""
    from harness.tasks import get_task

    done = [t["task"] for t in store.task_results(run_id)]
    if not done:
        raise HarnessError(f"run {run_id!r} has no scored tasks in {store.path} (see `harness runs`)")
    if tasks:
        missing = [t for t in tasks if t not in done]
        if missing:
            raise HarnessError(f"run {run_id} has no results for {', '.join(missing)} (it has {', '.join(done)})")
        return list(tasks)
    out = []
    for name in done:
        try:
            if get_task(name).kind == "math":
                out.append(name)
        except UnknownTask:
            continue
    return out


def audit_task(store: Store, run_id: str, task: str, opinion: Opinion, grader: str) -> AuditResult:
    """Judge one task's stored samples with `opinion` and store the audit (replacing an earlier one)."""
    rows = [r for r in store.scored_samples(run_id, task) if r["verdict"] != "unfinished"]
    gold_of = {r["item_id"]: gold_answer(r["gold"]) if r["gold"] is not None else None for r in rows}
    theirs = opinion([(gold_of[r["item_id"]], r["extracted"]) for r in rows]) if rows else []
    checked = [(r, t) for r, t in zip(rows, theirs) if t is not None]
    disagree = tuple(
        AuditDisagreementRow(run_id=run_id, task=task, grader=grader, item_id=str(r["item_id"]),
                             sample_index=int(r["sample_index"]), gold=gold_of[r["item_id"]], extracted=r["extracted"],
                             ours=r["verdict"], theirs="correct" if t else "incorrect")
        for r, t in checked if (r["verdict"] == "correct") != t)
    n = len(checked)
    summary = AuditRow(
        run_id=run_id, task=task, grader=grader, audited_at=now(), n_samples=len(rows), n_checked=n, n_disagree=len(disagree),
        n_items_disagree=len({d.item_id for d in disagree}), n_items=len(gold_of),
        their_pass_at_1=sum(bool(t) for _, t in checked) / n if n else None,
        our_pass_at_1=sum(r["verdict"] == "correct" for r, _ in checked) / n if n else None)
    store.put_audit(summary, disagree)
    return AuditResult(summary, disagree)


def audit_run(store: Store, run_id: str, *, tasks: Sequence[str] | None = None,
              opinion: Opinion | None = None, grader: str | None = None) -> list[AuditResult]:
    """Audit every math task of a run (or `tasks`) with Math-Verify (or `opinion`, named `grader`)."""
    if opinion is None:
        from harness.grading.math import second_opinion

        if not second_opinion.available():
            raise HarnessError("the second opinion needs Math-Verify: pip install math-verify")
        opinion, grader = second_opinion.math_verify_verdicts, second_opinion.grader_name()
    return [audit_task(store, run_id, t, opinion, grader or "second opinion") for t in math_tasks(store, run_id, tasks)]
