"""From grades to stored results: the vote per item, the summary per task, and the tables written.

Shared by the run loop and by ingestion of generations made elsewhere, so a run is a run whatever
produced its completions.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import Any, Callable, Collection, Sequence

from harness.pipeline.answers import Usage
from harness.records import Grade, Item
from harness.store import ItemResultRow, ScoreRow, Store, TaskReportRow, TaskResultRow, now
from harness.vote import Vote, maj_at_k, pass_at_k, vote


@dataclass(frozen=True, slots=True)
class TaskSummary:
    task: str
    version: int
    n_items: int
    k: int
    generated: int
    reused: int
    maj_at_k: float
    pass_at_1: float
    pass_at_k: float
    n_timeout: int
    n_unparseable: int
    # items of this task exported as training data for this model before: their scores may be inflated
    possibly_contaminated: int = 0
    reports: tuple[Any, ...] = ()  # harness.task.Report
    n: int | None = None  # samples per item behind the estimates (>= k); None means k
    n_unfinished: int = 0  # samples whose thinking never closed (no answer: never credited)
    usage: Usage = Usage()  # tokens and latency over the task's samples (reused ones included)

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task, "version": self.version, "n_items": self.n_items, "k": self.k,
            "n": self.n if self.n is not None else self.k,
            "generated": self.generated, "reused": self.reused, "maj_at_k": self.maj_at_k,
            "pass_at_1": self.pass_at_1, "pass_at_k": self.pass_at_k, "n_timeout": self.n_timeout,
            "n_unparseable": self.n_unparseable, "n_unfinished": self.n_unfinished,
            "possibly_contaminated": self.possibly_contaminated,
            "tokens": {"prompt": self.usage.prompt_tokens, "generated": self.usage.completion_tokens,
                       "thinking": self.usage.thinking_tokens, "answer": self.usage.answer_tokens},
            "latency_s": self.usage.latency_s,
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
        return float(v.correct)
    return maj_at_k(grades, k)


def item_pass_at_k(v: Vote, k: int) -> float:
    """pass@k of one item; an item with fewer than k samples uses all it has."""
    return pass_at_k(v.n, v.n_correct, min(k, v.n)) if v.n else 0.0


def record_results(store: Store, run_id: str, task: str, version: int, items: Sequence[Item],
                   samples: Sequence[Sequence[tuple[int, str | None]]], grades: Sequence[Sequence[Grade]],
                   k: int, *, generated: int, reused: int, contaminated: Collection[str] = frozenset(),
                   reports: Sequence[Callable[[Sequence[tuple[Item, Sequence[Grade]]]], Any]] = (),
                   usage: Usage = Usage()) -> TaskSummary:
    """Vote on each item, compute the task's reports, and store scores per sample, results per item,
    the task summary and the reports. `samples[j]` lists (sample index, generation key) of item j,
    aligned with `grades[j]`.

    With n > k samples an item's maj@k is the subset estimator of `harness.vote.maj_at_k` and its
    pass@k the unbiased estimator; `maj_correct` (what paired comparisons use) is the vote over all n.
    `usage` is the token and latency totals over the samples, stored with the task's summary."""
    votes = [vote(g) for g in grades]
    maj = [item_maj_at_k(g, v, k) for g, v in zip(grades, votes)]
    n = len(items)
    graded = list(zip(items, grades))
    made = tuple(report(graded) for report in reports)
    summary = TaskSummary(
        task=task, version=version, n_items=n, k=k, generated=generated, reused=reused,
        maj_at_k=sum(maj) / n,
        pass_at_1=sum(v.pass_at_1 for v in votes) / n,
        pass_at_k=sum(item_pass_at_k(v, k) for v in votes) / n,
        n_timeout=sum(v.n_timeout for v in votes),
        n_unparseable=sum(v.n_unparseable for v in votes),
        possibly_contaminated=sum(it.id in contaminated for it in items),
        reports=made,
        n=max((v.n for v in votes), default=k),
        n_unfinished=sum(v.n_unfinished for v in votes),
        usage=usage,
    )
    score_rows = [
        ScoreRow(run_id, task, item.id, i, key, g.extracted, g.canonical, g.verdict, g.cls, g.detail)
        for item, item_samples, item_grades in zip(items, samples, grades)
        for (i, key), g in zip(item_samples, item_grades)
    ]
    item_rows = [
        ItemResultRow(run_id, task, version, it.id, it.gold, v.n, v.n_correct, v.n_unparseable, v.n_timeout,
                      v.answer, v.correct, v.share, v.margin, v.n_classes, v.pass_at_1, item_pass_at_k(v, k), m,
                      v.n_unfinished, it.id in contaminated)
        for it, v, m in zip(items, votes, maj)
    ]
    task_row = TaskResultRow(run_id, task, version, n, k, generated, reused, summary.maj_at_k, summary.pass_at_1,
                             summary.pass_at_k, summary.n_timeout, summary.n_unparseable, now(),
                             summary.possibly_contaminated, summary.n, summary.n_unfinished, usage.prompt_tokens,
                             usage.completion_tokens, usage.thinking_tokens, usage.latency_s)
    report_rows = [TaskReportRow(run_id, task, r.name, json.dumps(r.data, default=str), r.text) for r in made]
    store.put_results(score_rows, item_rows, task_row, report_rows)
    return summary


def stored_summary(store: Store, run_id: str, model: str, model_id: str) -> RunSummary:
    """A finished run's summary as it was stored (its reports are left out)."""
    tasks = []
    for r in store.task_results(run_id):
        tasks.append(TaskSummary(
            task=r["task"], version=r["task_version"], n_items=r["n_items"], k=r["k"], generated=0,
            reused=r["generated"] + r["reused"], maj_at_k=r["maj_at_k"], pass_at_1=r["pass_at_1"],
            pass_at_k=r["pass_at_k"], n_timeout=r["n_timeout"], n_unparseable=r["n_unparseable"],
            possibly_contaminated=r.get("possibly_contaminated") or 0, n=r.get("n"),
            n_unfinished=r.get("n_unfinished") or 0,
            usage=Usage(r.get("prompt_tokens"), r.get("completion_tokens"), r.get("thinking_tokens"), r.get("latency_s"))))
    return RunSummary(run_id, model, model_id, tuple(tasks))
