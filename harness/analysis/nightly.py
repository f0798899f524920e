"""Nightly: run a suite, then check every model's newest run of each task against its previous one.

A change is judged item by item on the items both runs have (maj@k outcomes): McNemar's exact test
and a paired bootstrap interval on the difference, from `harness.stats`. It is a **regression** when
the score fell and p < alpha, an **improvement** when it rose and p < alpha, else **steady**. Every
check is stored in `nightly_checks`, so the leaderboard can show the history of verdicts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

from harness.analysis.stats import paired_binary
from harness.store import Store

ALPHA = 0.05


@dataclass(frozen=True, slots=True)
class Check:
    model_name: str
    task: str
    run_id: str
    baseline_run_id: str | None
    n_items: int
    baseline_score: float | None
    score: float
    diff: float | None
    diff_low: float | None
    diff_high: float | None
    p_value: float | None
    status: str  # regression | improvement | steady | no_baseline

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_pair(model: str, task: str, run_id: str, new: Sequence[Mapping[str, Any]], baseline_run_id: str | None,
               old: Sequence[Mapping[str, Any]] | None, alpha: float = ALPHA, seed: int = 0) -> Check:
    """Judge the newest run's per-item results against the previous run's, on shared items."""
    new_by = {r["item_id"]: bool(r["maj_correct"]) for r in new}
    score_all = sum(new_by.values()) / len(new_by) if new_by else 0.0
    if not old:
        return Check(model, task, run_id, None, len(new_by), None, score_all, None, None, None, None, "no_baseline")
    old_by = {r["item_id"]: bool(r["maj_correct"]) for r in old}
    shared = sorted(set(new_by) & set(old_by))
    if not shared:
        return Check(model, task, run_id, baseline_run_id, 0, None, score_all, None, None, None, None, "no_baseline")
    p = paired_binary([new_by[i] for i in shared], [old_by[i] for i in shared], seed=seed)
    if p.p_value < alpha and p.diff.estimate < 0:
        status = "regression"
    elif p.p_value < alpha and p.diff.estimate > 0:
        status = "improvement"
    else:
        status = "steady"
    return Check(model, task, run_id, baseline_run_id, p.n, p.b.estimate, p.a.estimate, p.diff.estimate,
                 p.diff.low, p.diff.high, p.p_value, status)


def check_models(store: Store, models: Sequence[str], tasks: Sequence[str] = (), alpha: float = ALPHA) -> list[Check]:
    """Check each model's newest run of each task (default: every task it has) against the one
    before, store the checks and return them."""
    checks = []
    for model in models:
        for task in (list(tasks) or store.tasks_of_model(model)):
            run_id, new = store.latest_item_results(model, task)
            if run_id is None:
                continue
            base_id, old = store.latest_item_results(model, task, back=1)
            checks.append(check_pair(model, task, run_id, new, base_id, old, alpha))
    store.put_nightly_checks([c.to_json() for c in checks])
    return checks
