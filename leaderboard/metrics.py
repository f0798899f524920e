"""What the pages show, computed from query results: pure pandas/numpy, no Streamlit, no SQL.

Conventions
- A model is its run's alias (`runs.model_name`): what the user typed and reads on the terminal.
- A model's score on a task comes from its latest finished (`done`) run with that task, as the store's
  SQL ranks them (`recency` 0 in `task_scores`, `harness.store.queries.RANKED_RUNS`): the rule every
  command reads, so the pages agree with `harness compare`. Runs in progress, failed or interrupted
  show in History only. `n_items`, `k` and the run id travel with the score, so a smoke run on 5
  items is visible as such.
- A model's results with their token totals, size and price come from `harness.analysis.results`
  over the `latest_results` query, as in `harness compare`.
- Scores are fractions in [0, 1] here; pages multiply by 100 for display.
- Intervals come from `harness.analysis.stats`, as in `harness compare`: Wilson for maj@k when every item's
  value is 0 or 1 (n = k samples), else (maj@k estimated from n > k samples, pass@1, pass@k) a
  percentile bootstrap over items, from stored per-item value histograms.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from harness.analysis import stats
from harness.analysis.compare import Budget, natural_ranks
from harness.analysis.results import params_b, price_per_mtok
from harness.store.queries import METRIC_COLUMNS

METRICS: tuple[str, ...] = tuple(METRIC_COLUMNS)
# The leaderboard's intervals are for reading, not for decisions (those go through Compare, which
# uses harness.compare's defaults); fewer resamples keep a page of many cells quick.
BOARD_RESAMPLES = 2_000


def latest(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, task) of `task_scores`: its latest done run (`recency` 0, see the module doc)."""
    last = scores[scores["recency"] == 0]
    return last.sort_values(["model", "task"]).reset_index(drop=True)


def interval(row: Mapping[str, object], metric: str, hist: pd.DataFrame | None,
             confidence: float = stats.DEFAULT_CONFIDENCE, n_resamples: int = BOARD_RESAMPLES) -> stats.Interval:
    """The metric of one (run, task) row with its interval (the stored score as the estimate; NaN
    bounds where there is none). `hist` holds value_histograms rows of that run, task and metric
    (maj@k needs none when every item's value is 0 or 1)."""
    n = int(row["n_items"])
    score = float(row[METRIC_COLUMNS[metric]])
    none = stats.Interval(score, math.nan, math.nan, confidence, "none")
    if n <= 0:
        return none
    binary = hist is None or hist.empty or bool(hist["value"].isin([0.0, 1.0]).all())
    if metric == "maj@k" and binary:
        ci = stats.wilson_interval(int(round(score * n)), n, confidence)
        return replace(ci, estimate=score)
    if hist is None or hist.empty:
        return none
    values = np.repeat(hist["value"].to_numpy(float), hist["items"].to_numpy(int))
    return replace(stats.mean_interval(values, confidence, n_resamples, seed=stats.DEFAULT_SEED), estimate=score)


def with_intervals(rows: pd.DataFrame, hist: pd.DataFrame, metric: str,
                   n_resamples: int = BOARD_RESAMPLES) -> pd.DataFrame:
    """`rows` (task_scores rows) plus `score`, `low`, `high` for `metric`."""
    out = rows.copy()
    if out.empty:
        return out.assign(score=pd.Series(dtype=float), low=pd.Series(dtype=float), high=pd.Series(dtype=float))
    groups = {key: g for key, g in hist[hist["metric"] == metric].groupby(["run_id", "task"])} \
        if not hist.empty else {}
    cis = [interval(r, metric, groups.get((r["run_id"], r["task"])), n_resamples=n_resamples)
           for r in out.to_dict("records")]
    out["score"] = [c.estimate for c in cis]
    out["low"] = [c.low for c in cis]
    out["high"] = [c.high for c in cis]
    return out


def board(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Models by tasks from latest rows with `score`: one row per model, a column per task, `mean`
    over the tasks every model has (so models are ranked on the same items; NaN when no task is
    shared), sorted by it.

    Returns the table and the task columns."""
    tasks = sorted(rows["task"].unique())
    wide = rows.pivot(index="model", columns="task", values="score")
    info = rows.sort_values("finished_at").groupby("model").agg(
        params_b=("params_b", "last"), family=("family", "last"), last_run=("finished_at", "max"))
    shared = shared_tasks(rows)
    table = info.join(wide)
    # Ranked only on the tasks every listed model has; with none shared there is no mean (a mean over
    # each model's own tasks would rank models on different items).
    table["mean"] = wide[shared].mean(axis=1) if shared else float("nan")
    table = table.reset_index().sort_values(["mean", "model"], ascending=[False, True], na_position="last")
    return table.reset_index(drop=True), tasks


def shared_tasks(rows: pd.DataFrame) -> list[str]:
    """The tasks every model in `rows` (latest rows: model, task) has a score on, sorted."""
    if rows.empty:
        return []
    models = set(rows["model"])
    have = rows.dropna(subset=["score"]).groupby("task")["model"].agg(set)
    return sorted(t for t, m in have.items() if m == models)


def pareto(points: pd.DataFrame, size: str = "params_b", score: str = "score") -> pd.Series:
    """True for models no other model beats: none is at most as large and at least as good with
    one of the two strictly. Rows without a size are never on the frontier."""
    sizes = points[size].to_numpy(float)
    scores = points[score].to_numpy(float)
    on = []
    for i in range(len(points)):
        if math.isnan(sizes[i]) or math.isnan(scores[i]):
            on.append(False)
            continue
        dominated = any(
            j != i and not math.isnan(sizes[j]) and sizes[j] <= sizes[i] and scores[j] >= scores[i]
            and (sizes[j] < sizes[i] or scores[j] > scores[i])
            for j in range(len(points))
        )
        on.append(not dominated)
    return pd.Series(on, index=points.index, name="frontier")


def voting_gain(rows: pd.DataFrame) -> pd.DataFrame:
    """Each model's gain from majority voting per task: maj@k minus pass@1 (latest rows)."""
    out = rows[["model", "task", "k", "params_b", "maj_at_k", "pass_at_1"]].copy()
    out["gain"] = out["maj_at_k"] - out["pass_at_1"]
    return out.sort_values(["task", "gain"], ascending=[True, False]).reset_index(drop=True)


COMPUTE_COLUMNS = ["model", "params_b", "maj_at_k", "n_items", "k", "samples", "mean_tokens", "thinking_share",
                   "tokens_per_correct", "unfinished_rate", "forced", "cost", "cost_per_correct"]


def compute(rows: pd.DataFrame, usage: pd.DataFrame) -> pd.DataFrame:
    """Per model (latest rows of one task) what its answers cost, as `harness compare`'s budget table
    counts it (`harness.analysis.compare.Budget`): generated tokens per sample and per correct sample, the
    thinking's share of them, the unfinished share of samples and, with a price per million tokens
    (`harness.analysis.results`: the models file, else the run's recorded spec), the run's cost and
    the cost per correct sample. `usage`: the `task_usage` rows of those runs and that task (the
    items' totals, summed in the store). A model without token counts has NaN there."""
    out = []
    sums = {(u["run_id"], u["task"]): u for u in usage.to_dict("records")}
    for r in rows.to_dict("records"):
        u = sums.get((r["run_id"], r["task"]))
        # Size and price as `harness compare` reads them: the run's model record, then the models file.
        stored = None if u is None or _missing(u.get("params_b")) else float(u["params_b"])
        params = params_b(r["model"], stored)
        price = price_per_mtok(r["model"], None if u is None or _missing(u.get("spec")) else u["spec"])
        b = _budget(u, price)
        share = (b.thinking_tokens / b.completion_tokens
                 if b and b.thinking_tokens is not None and b.completion_tokens else None)
        out.append({
            "model": r["model"], "params_b": params, "maj_at_k": r["maj_at_k"], "n_items": r["n_items"],
            "k": r["k"], "samples": b.n_samples if b else None, "mean_tokens": b.mean_tokens if b else None,
            "thinking_share": share, "tokens_per_correct": b.tokens_per_correct if b else None,
            "unfinished_rate": b.unfinished_rate if b else None, "forced": b.n_forced if b else None,
            "cost": b.cost if b else None, "cost_per_correct": b.cost_per_correct if b else None})
    df = pd.DataFrame(out, columns=COMPUTE_COLUMNS)
    num = [c for c in COMPUTE_COLUMNS if c != "model"]
    df[num] = df[num].astype(float)
    return df.sort_values(["params_b", "model"], na_position="last").reset_index(drop=True)


def _missing(x: object) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def _budget(u: Mapping[str, Any] | None, price: dict[str, float] | None) -> Budget | None:
    """`Budget.of` from a `task_usage` row: the same totals, summed by the store (None when an item
    lacks its sample counts; a token total unknown when an item's is)."""
    if u is None or not u["items"] or _missing(u["n_samples"]) or _missing(u["n_correct"]):
        return None

    def total(col: str) -> int | None:
        return None if _missing(u.get(col)) else int(u[col])

    return Budget.of_totals(n_samples=int(u["n_samples"]), n_correct=int(u["n_correct"]),
                            n_unfinished=int(u["n_unfinished"]),
                            prompt_tokens=total("prompt_tokens"), completion_tokens=total("completion_tokens"),
                            thinking_tokens=total("thinking_tokens"),
                            n_forced=int(u["n_forced"]), price=price)


def majority_verdict(items: pd.DataFrame) -> pd.Series:
    """correct / incorrect / no answer (every sample unparseable or timed out) per item."""
    verdict = np.where(items["maj_correct"].astype(bool), "correct",
                       np.where(items["maj_answer"].isna(), "no answer", "incorrect"))
    return pd.Series(verdict, index=items.index, name="majority")


def sort_item_ids(ids: Sequence[str]) -> list[str]:
    """Item ids in natural order ("2" before "10"; "HumanEval/2" before "HumanEval/10"), as compare
    orders them (`harness.analysis.compare.natural_ranks`)."""
    ids = list(ids)
    return [ids[i] for i in np.argsort(natural_ranks(ids), kind="stable").tolist()]


def vote_distribution(samples: pd.DataFrame) -> pd.DataFrame:
    """Votes per answer class of one item's samples: answer, votes, share, verdict. Samples with no
    answer (unparseable, timeout) are one row each per verdict, so they stay visible."""
    if samples.empty:
        return pd.DataFrame(columns=["answer", "votes", "share", "verdict"])
    s = samples.copy()
    answer = s["canonical"].where(s["canonical"].notna(), s["extracted"])
    s["answer"] = np.where(s["cls"].isna(), "(" + s["verdict"].astype(str) + ")", answer.astype(str))
    group = s.groupby("answer", sort=False).agg(votes=("sample_index", "size"), verdict=("verdict", "first"),
                                                first=("sample_index", "min"))
    group["share"] = group["votes"] / len(s)
    group = group.sort_values(["votes", "first"], ascending=[False, True]).reset_index()
    return group[["answer", "votes", "share", "verdict"]]


OUTCOMES: tuple[str, ...] = ("both", "only A", "only B", "neither")


def outcome_counts(a_items: pd.DataFrame, b_items: pd.DataFrame) -> pd.DataFrame:
    """Per task, over the items both models have (item_outcomes rows of each): how many items both
    solve by majority vote, only A, only B, or neither. Columns: task, outcome (one of OUTCOMES),
    items; every task has all four rows (zeros included), tasks sorted."""
    cols = ["task", "outcome", "items"]
    pair = a_items[["task", "item_id", "maj_correct"]].merge(
        b_items[["task", "item_id", "maj_correct"]], on=["task", "item_id"], suffixes=("_a", "_b"))
    if pair.empty:
        return pd.DataFrame(columns=cols)
    a, b = pair["maj_correct_a"].astype(bool), pair["maj_correct_b"].astype(bool)
    pair["outcome"] = np.select([a & b, a & ~b, ~a & b], list(OUTCOMES[:3]), OUTCOMES[3])
    counts = pair.groupby(["task", "outcome"]).size()
    full = pd.MultiIndex.from_product([sorted(pair["task"].unique()), list(OUTCOMES)], names=["task", "outcome"])
    return counts.reindex(full, fill_value=0).rename("items").reset_index()[cols]


def queue_summary(queue: pd.DataFrame) -> pd.DataFrame:
    """Training-queue rows (`train_queue` query) per model, task and reason: items queued, of them
    exported and pending, and the model's mean pass rate on them."""
    cols = ["model", "task", "reason", "queued", "exported", "pending", "mean_pass_rate"]
    if queue.empty:
        return pd.DataFrame(columns=cols)
    q = queue.assign(exported=queue["exported_at"].notna())
    out = q.groupby(["model", "task", "reason"]).agg(
        queued=("item_id", "size"), exported=("exported", "sum"), mean_pass_rate=("pass_rate", "mean")).reset_index()
    out["exported"] = out["exported"].astype(int)
    out["pending"] = out["queued"] - out["exported"]
    return out[cols]


def exports(queue: pd.DataFrame) -> pd.DataFrame:
    """The SFT exports recorded in the queue: per model and file written, when, how many items, of
    which tasks; newest first."""
    cols = ["model", "export_path", "exported_at", "items", "tasks"]
    done = queue[queue["exported_at"].notna()] if not queue.empty else queue
    if done.empty:
        return pd.DataFrame(columns=cols)
    out = done.groupby(["model", "export_path"]).agg(
        exported_at=("exported_at", "max"), items=("item_id", "size"),
        tasks=("task", lambda t: ", ".join(sorted(set(t))))).reset_index()
    return out.sort_values("exported_at", ascending=False).reset_index(drop=True)[cols]


def pass_rate_histogram(queue: pd.DataFrame, step: float = 0.1) -> pd.DataFrame:
    """How many queued items have each pass rate (bins of `step` from 0 to 1, the last one closed),
    per model and reason: the edge the queue trains on. Columns: model, reason, low, high, items."""
    cols = ["model", "reason", "low", "high", "items"]
    if queue.empty:
        return pd.DataFrame(columns=cols)
    n_bins = round(1 / step)
    b = np.clip(np.floor(queue["pass_rate"].to_numpy(float) / step + 1e-9), 0, n_bins - 1).astype(int)
    h = queue.assign(bin=b).groupby(["model", "reason", "bin"]).size().rename("items").reset_index()
    h["low"] = (h["bin"] * step).round(10)
    h["high"] = ((h["bin"] + 1) * step).round(10)
    return h[cols]


def change_vs_previous(scores: pd.DataFrame, rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """`rows` (latest rows with `score`) plus each one's change against the same model's previous
    done run of the same task (the next `recency`): `previous` (its score), `previous_run` and
    `change` (score − previous; NaN for a model's first run of a task)."""
    done = scores[scores["recency"].notna()]
    prev = pd.DataFrame({"model": done["model"], "task": done["task"], "recency": done["recency"] - 1,
                         "previous": done[METRIC_COLUMNS[metric]], "previous_run": done["run_id"]})
    out = rows.merge(prev, on=["model", "task", "recency"], how="left")
    out["change"] = out["score"] - out["previous"]
    return out


def trend(change: float, digits: int = 1) -> str:
    """A change in points as an arrow and a signed number ("▲ +20.0", "▼ −17.0", "= 0.0"), "new"
    when there is no previous run."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return "new"
    value = round(change, digits)
    if value > 0:
        return f"▲ +{value:.{digits}f}"
    if value < 0:
        return f"▼ −{-value:.{digits}f}"
    return f"= {0:.{digits}f}"
