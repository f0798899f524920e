"""Nightly verdicts: is tonight's model worse than last night's, per task and per domain?

A change is judged item by item on the items both nights have, with compare's paired statistics
(maj@k outcomes: McNemar's exact test, a paired bootstrap interval on the difference; a domain pools
its tasks' items, resampled within tasks). Sampling alone moves a score from night to night, so the
night also measures that: each model runs under several seeds, and the **noise floor** is the range
(max - min) of its score across them. A task or domain has

- **regressed** when its score fell, p < alpha and the fall is larger than the noise floor,
- **improved** when it rose likewise,
- **steady** otherwise, and **no_baseline** when last night has no shared items.

The items that flipped (right last night and wrong tonight, or the reverse) come with each verdict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

from harness.analysis.compare import ItemOutcome, compare
from harness.analysis.results import ModelResults, load_results
from harness.analysis.stats import paired_binary
from harness.store import NightlyCheckRow, Store, now

ALPHA = 0.05
VERDICTS = ("regressed", "improved", "steady", "no_baseline")


def noise_floor(scores: Sequence[float]) -> float | None:
    """The spread of one model's score across seeds (max - min); None with fewer than two seeds,
    since one run cannot measure it."""
    return None if len(scores) < 2 else float(max(scores) - min(scores))


def verdict(diff: float | None, p_value: float | None, floor: float | None, alpha: float = ALPHA) -> str:
    """regressed / improved / steady / no_baseline (see module doc). A change inside the noise
    floor is steady however small its p-value: the seeds alone move the score that much."""
    if diff is None or p_value is None:
        return "no_baseline"
    if p_value < alpha and (floor is None or abs(diff) > floor):
        return "regressed" if diff < 0 else "improved"
    return "steady"


@dataclass(frozen=True, slots=True)
class Check:
    """The old single-task check (`harness nightly --check-only`): newest run vs the one before."""

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
    status: str  # regressed | improved | steady | no_baseline

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_pair(model: str, task: str, run_id: str, new: Mapping[str, bool], baseline_run_id: str | None,
               old: Mapping[str, bool] | None, alpha: float = ALPHA, seed: int = 0) -> Check:
    """Judge the newest run's per-item majority outcomes (item id -> correct) against the previous
    run's, on shared items."""
    score_all = sum(new.values()) / len(new) if new else 0.0
    if not old:
        return Check(model, task, run_id, None, len(new), None, score_all, None, None, None, None, "no_baseline")
    shared = sorted(set(new) & set(old))
    if not shared:
        return Check(model, task, run_id, baseline_run_id, 0, None, score_all, None, None, None, None, "no_baseline")
    p = paired_binary([new[i] for i in shared], [old[i] for i in shared], seed=seed)
    return Check(model, task, run_id, baseline_run_id, p.n, p.b.estimate, p.a.estimate, p.diff.estimate,
                 p.diff.low, p.diff.high, p.p_value, verdict(p.diff.estimate, p.p_value, None, alpha))


def check_models(store: Store, models: Sequence[str], tasks: Sequence[str] = (), alpha: float = ALPHA) -> list[Check]:
    """Check each model's latest run of each task (default: every task it has) against the one
    before (`harness.analysis.results`), store the checks and return them."""
    checks = []
    for model in models:
        latest = load_results(store, model, tasks=list(tasks) or None)
        before = load_results(store, model, tasks=list(tasks) or None, back=1)
        for task in [t for t in (list(tasks) or latest.runs) if t in latest.runs]:
            run, base = latest.runs[task], before.runs.get(task)
            checks.append(check_pair(model, task, run.run_id, _majority(latest, task),
                                     base.run_id if base else None, _majority(before, task) if base else None, alpha))
    ts = now()
    store.put_nightly_checks([NightlyCheckRow(checked_at=ts, **c.to_json()) for c in checks])
    return checks


def _majority(results: ModelResults, task: str) -> dict[str, bool]:
    return {item: o.maj_correct for item, o in results.task_outcomes(task).items()}


# -- a night's verdicts ---------------------------------------------------------------------------

Key = tuple[str, str]  # (task, item id)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One task's or one domain's verdict for one model, with the items that flipped."""

    row: NightlyCheckRow
    seed_scores: tuple[float, ...]  # tonight's score at each seed (the checked seed first)
    fell_items: tuple[Key, ...] = ()  # right last night, wrong tonight
    rose_items: tuple[Key, ...] = ()
    fell_while_tuning: str | None = None  # the domain being tuned, when this other domain regressed

    def to_json(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self.row).items() if k != "checked_at"}
        return {**d, "seed_scores": list(self.seed_scores), "fell_items": [list(k) for k in self.fell_items],
                "rose_items": [list(k) for k in self.rose_items], "fell_while_tuning": self.fell_while_tuning}


def _outcomes(rows: Sequence[Mapping[str, Any]], tasks: Sequence[str]) -> dict[Key, ItemOutcome]:
    wanted = set(tasks)
    return {(r["task"], r["item_id"]): ItemOutcome.from_row(r) for r in rows if r["task"] in wanted}


def _score(outcomes: Mapping[Key, ItemOutcome]) -> float | None:
    return sum(o.maj_correct for o in outcomes.values()) / len(outcomes) if outcomes else None


def judge(model: str, scope: str, name: str, tasks: Sequence[str], tonight: Sequence[Sequence[Mapping[str, Any]]],
          baseline: Sequence[Mapping[str, Any]] | None, *, run_id: str, baseline_run_id: str | None,
          night_id: str | None, baseline_night_id: str | None, alpha: float = ALPHA,
          tuning: str | None = None) -> Verdict | None:
    """The verdict on `tasks` (one task, or a domain's) for `model`: `tonight` holds the per-item
    results of each seed's run (the checked seed first), `baseline` last night's checked run.
    None when tonight has no items in these tasks."""
    now_by = _outcomes(tonight[0], tasks)
    if not now_by:
        return None
    seed_scores = tuple(s for s in (_score(_outcomes(rows, tasks)) for rows in tonight) if s is not None)
    floor = noise_floor(seed_scores)
    base: dict[str, Any] = dict(
        checked_at=now(), model_name=model, task=name if scope == "task" else ",".join(tasks), run_id=run_id,
        night_id=night_id, scope=scope, domain=None if scope == "task" else name, noise_floor=floor,
    )
    before = _outcomes(baseline or (), tasks)
    c = compare(now_by, before, a_name="tonight", b_name="last night", metric="maj@k", tasks=list(tasks)) \
        if before else None
    if c is None or c.overall is None:
        row = NightlyCheckRow(n_items=len(now_by), score=seed_scores[0], status="no_baseline",
                              baseline_run_id=baseline_run_id, baseline_night_id=baseline_night_id, **base)
        return Verdict(row, seed_scores)
    o = c.overall
    status = verdict(o.diff, o.p_value, floor, alpha)
    fell = tuple((d.task, d.item_id) for d in c.items if d.winner == "b")
    rose = tuple((d.task, d.item_id) for d in c.items if d.winner == "a")
    row = NightlyCheckRow(n_items=o.n_items, score=o.a.estimate, status=status, baseline_run_id=baseline_run_id,
                          baseline_score=o.b.estimate, diff=o.diff, diff_low=o.diff_ci_low, diff_high=o.diff_ci_high,
                          p_value=o.p_value, baseline_night_id=baseline_night_id, fell=len(fell), rose=len(rose),
                          **base)
    flag = tuning if (scope == "domain" and tuning and name != tuning and status == "regressed") else None
    return Verdict(row, seed_scores, fell, rose, flag)


def judge_model(model: str, domains: Mapping[str, Sequence[str]], tonight: Sequence[Sequence[Mapping[str, Any]]],
                baseline: Sequence[Mapping[str, Any]] | None, **kw: Any) -> list[Verdict]:
    """Every domain's verdict, then every task's, for one model."""
    out = []
    for domain, tasks in domains.items():
        v = judge(model, "domain", domain, tasks, tonight, baseline, **kw)
        if v is not None:
            out.append(v)
    for task in dict.fromkeys(t for ts in domains.values() for t in ts):
        v = judge(model, "task", task, [task], tonight, baseline, **{**kw, "tuning": None})
        if v is not None:
            out.append(v)
    return out
