"""From grades to stored results: the vote per item, the summary per task, and the tables written.

Shared by the run loop and by ingestion of generations made elsewhere, so a run is a run whatever
produced its completions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Any, Callable, Collection, Sequence

from harness.pipeline.answers import Usage
from harness.records import Completion, Grade, Item
from harness.store import ItemResultRow, ScoreRow, Store, TaskReportRow, TaskResultRow, now
from harness.vote import Vote, maj_at_k, pass_at_k, vote


@dataclass(frozen=True, slots=True)
class TaskSummary(TaskResultRow):
    """What a run stored for one task: its `task_results` row (one record, the row's fields) and the
    reports as the task made them (stored as `task_reports` rows). `n`: samples per item behind the
    estimates (>= k); `possibly_contaminated`: items of this task exported as training data for
    this model before (their scores may be inflated)."""

    reports: tuple[Any, ...] = ()  # harness.task.Report

    @property
    def usage(self) -> Usage:
        """Tokens and latency over the task's samples (reused ones included)."""
        return Usage(self.prompt_tokens, self.completion_tokens, self.thinking_tokens, self.latency_s)

    def row(self) -> TaskResultRow:
        """The stored row alone."""
        return TaskResultRow(**{f.name: getattr(self, f.name) for f in fields(TaskResultRow)})

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task, "task_version": self.task_version, "n_items": self.n_items, "k": self.k,
            "n": self.n if self.n is not None else self.k,
            "generated": self.generated, "reused": self.reused, "maj_at_k": self.maj_at_k,
            "pass_at_1": self.pass_at_1, "pass_at_k": self.pass_at_k, "n_timeout": self.n_timeout,
            "n_unparseable": self.n_unparseable, "n_unfinished": self.n_unfinished,
            "possibly_contaminated": self.possibly_contaminated,
            "tokens": {"prompt": self.prompt_tokens, "generated": self.completion_tokens,
                       "thinking": self.thinking_tokens, "answer": self.usage.answer_tokens},
            "latency_s": self.latency_s, "conventions": self.conventions,
            **({"reports": {r.name: r.data for r in self.reports}} if self.reports else {}),
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run stored, per task: made by `harness run` and by every ingest path alike."""

    run_id: str
    model: str
    model_id: str
    tasks: tuple[TaskSummary, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "model": self.model, "model_id": self.model_id,
                "tasks": [t.to_json() for t in self.tasks]}


def item_maj_at_k(grades: Sequence[Grade], v: Vote, k: int) -> float:
    """maj@k of one item: its vote's outcome with k samples, the subset estimator with more."""
    if len(grades) <= k:
        return float(v.maj_correct)
    return maj_at_k(grades, k)


def item_pass_at_k(v: Vote, k: int) -> float:
    """pass@k of one item; an item with fewer than k samples uses all it has."""
    return pass_at_k(v.n, v.n_correct, min(k, v.n)) if v.n else 0.0


# An item's usage as `item_results` stores it: prompt, generated and thinking tokens summed over its
# samples (None when a sample lacks the count), and how many samples had their answer forced.
ItemUsage = tuple[int | None, int | None, int | None, int]


def item_usage(completions: Sequence[Completion]) -> ItemUsage:
    """The usage of an item's samples, as the store's own `ITEM_USAGE_SQL` sums their generations."""
    def total(values: list[int | None]) -> int | None:
        return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]

    return (total([c.prompt_tokens for c in completions]), total([c.tokens for c in completions]),
            total([c.thinking_tokens for c in completions]), sum(bool(c.forced) for c in completions))


def record_results(store: Store, run_id: str, task: str, version: int, items: Sequence[Item],
                   samples: Sequence[Sequence[tuple[int, str | None]]], grades: Sequence[Sequence[Grade]],
                   k: int, *, generated: int, reused: int, contaminated: Collection[str] = frozenset(),
                   reports: Sequence[Callable[[Sequence[tuple[Item, Sequence[Grade]]]], Any]] = (),
                   usage: Usage = Usage(), conventions: str | None = None, fresh: bool = False,
                   usages: Sequence[ItemUsage] | None = None) -> TaskSummary:
    """Vote on each item, compute the task's reports, and store scores per sample, results per item,
    the task summary and the reports. `samples[j]` lists (sample index, generation key) of item j,
    aligned with `grades[j]`.

    With n > k samples an item's maj@k is the subset estimator of `harness.vote.maj_at_k` and its
    pass@k the unbiased estimator; `maj_correct` (what paired comparisons use) is the vote over all n.
    `usage` is the token and latency totals over the samples, stored with the task's summary, and
    `conventions` the math grader's named conventions. `usages`: each item's (`item_usage`), when the
    caller has its completions at hand (else the store sums the stored generations); `fresh`: nothing
    of this run and task is stored yet."""
    votes = [vote(g) for g in grades]
    maj = [item_maj_at_k(g, v, k) for g, v in zip(grades, votes)]
    n = len(items)
    graded = list(zip(items, grades))
    made = tuple(report(graded) for report in reports)
    summary = TaskSummary(
        run_id=run_id, task=task, task_version=version, n_items=n, k=k, generated=generated, reused=reused,
        maj_at_k=sum(maj) / n,
        pass_at_1=sum(v.pass_at_1 for v in votes) / n,
        pass_at_k=sum(item_pass_at_k(v, k) for v in votes) / n,
        n_timeout=sum(v.n_timeout for v in votes),
        n_unparseable=sum(v.n_unparseable for v in votes),
        finished_at=now(),
        possibly_contaminated=sum(it.id in contaminated for it in items),
        n=max((v.n for v in votes), default=k),
        n_unfinished=sum(v.n_unfinished for v in votes),
        prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
        thinking_tokens=usage.thinking_tokens, latency_s=usage.latency_s, conventions=conventions,
        reports=made,
    )
    score_rows = [
        ScoreRow(run_id=run_id, task=task, item_id=item.id, sample_index=i, gen_key=key, extracted=g.extracted,
                 canonical=g.canonical, verdict=g.verdict, cls=g.cls, detail=g.detail)
        for item, item_samples, item_grades in zip(items, samples, grades)
        for (i, key), g in zip(item_samples, item_grades)
    ]
    item_rows = [
        ItemResultRow(run_id=run_id, task=task, task_version=version, item_id=it.id, gold=it.gold, n=v.n,
                      n_correct=v.n_correct, n_unparseable=v.n_unparseable, n_timeout=v.n_timeout,
                      maj_answer=v.answer, maj_correct=v.maj_correct, vote_share=v.share, margin=v.margin,
                      n_classes=v.n_classes, pass_at_1=v.pass_at_1, pass_at_k=item_pass_at_k(v, k), maj_at_k=m,
                      n_unfinished=v.n_unfinished, possibly_contaminated=it.id in contaminated,
                      prompt_tokens=u[0], completion_tokens=u[1], thinking_tokens=u[2], n_forced=u[3])
        for it, v, m, u in zip(items, votes, maj, usages if usages is not None else [(None, None, None, 0)] * n)
    ]
    report_rows = [TaskReportRow(run_id=run_id, task=task, name=r.name, data=json.dumps(r.data, default=str),
                                 text=r.text) for r in made]
    store.put_results(score_rows, item_rows, summary.row(), report_rows, fresh=fresh, usage=usages is not None)
    return summary


def stored_summary(store: Store, run_id: str, model: str, model_id: str) -> RunSummary:
    """A finished run's summary as it was stored, every sample counted as reused (its reports are
    left out)."""
    names = [f.name for f in fields(TaskResultRow)]
    tasks = tuple(replace(TaskSummary(**{n: r[n] for n in names if n in r}), generated=0,
                          reused=int(r["generated"]) + int(r["reused"])) for r in store.task_results(run_id))
    return RunSummary(run_id, model, model_id, tasks)
