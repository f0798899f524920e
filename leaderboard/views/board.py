"""Leaderboard: models by tasks under one metric, best first, with 95% intervals, size, family, last
run and each score's change against the same model's previous run of the task."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from harness.analysis import numbers
from harness.leaderboard import charts, common, grading, metrics

st.title("Leaderboard")
scores = common.scores_or_stop()
metric = common.metric_picker("board_metric")
rows, hist = common.scored(scores, metric)
common.stale_note(scores, *([hist] if hist else []))
rows = common.pct(metrics.change_vs_previous(scores.df, rows, metric), ["previous", "change"])
rows["trend"] = rows["change"].map(metrics.trend)

table, tasks = metrics.board(rows)
shared = metrics.shared_tasks(rows)
table = common.pct(table, [*tasks, "mean"])
# Shown as text: a task a model has no run of is blank, never "None"; sizes in the unit that reads.
for col in [*tasks, "mean"]:
    table[col] = table[col].map(common.cell)
table["size"] = table["params_b"].map(numbers.size)
table["family"] = table["family"].map(common.cell)
table["runs"] = table["model"].map(scores.df.groupby("model")["run_id"].nunique())
table["history"] = ["history?model=" + quote(m, safe="") for m in table["model"]]
changed = rows[rows["previous"].notna()].sort_values("task")
marks = {m: " · ".join(f"{t} {v}" for t, v in zip(g["task"], g["trend"])) for m, g in changed.groupby("model")}
table["vs previous run"] = [marks.get(m, "first run") for m in table["model"]]
mean_of = (f"mean over {', '.join(shared)}, the task(s) every listed model has" if shared else
           "no task is shared by every listed model, so no mean ranks them")
st.dataframe(
    table[["model", "size", "family", *(["mean"] if shared else []), *tasks, "vs previous run", "last_run", "runs",
           "history"]],
    hide_index=True,
    width="stretch",
    column_config={
        "size": st.column_config.TextColumn("size", help="parameters, from the models file"),
        "mean": st.column_config.TextColumn(f"mean {metric}", help=mean_of),
        **{t: st.column_config.TextColumn(t) for t in tasks},
        "last_run": st.column_config.DatetimeColumn("last scored", format="YYYY-MM-DD HH:mm"),
        "vs previous run": st.column_config.TextColumn(
            "vs previous run", help=f"{metric} change in points per task against the model's previous run of it"),
        "runs": st.column_config.NumberColumn("runs", help="scored runs of this model in the store"),
        "history": st.column_config.LinkColumn("runs & history", display_text="open"),
    },
)
st.caption(f"{metric} in %, from each model's latest scored run of each task"
           + (f", best mean first; {mean_of}" if shared else f"; {mean_of}")
           + "; ▲/▼: change against the model's previous run of the task; blank: no run of that task.")
falls = rows[rows["change"] < 0].sort_values("change")
if not falls.empty:
    st.warning("Fell since the previous run: " + "; ".join(
        f"{r.model} on {r.task}: {100 * r.score:.1f} ({r.trend} points; previous run `{r.previous_run}`)"
        for r in falls.itertuples()), icon=":material/trending_down:")

st.subheader("Scores with 95% intervals")
detail = common.pct(rows, ["score", "low", "high"])
detail["second opinion"] = [grading.disagreement_text(r) for r in detail.to_dict("records")]
detail = detail.assign(size=detail["params_b"].map(numbers.size), family=detail["family"].map(common.cell),
                       trend=detail["trend"].map(common.cell), source=detail["source"].map(common.cell),
                       conventions=detail["conventions"].map(common.cell),
                       change=detail["change"].map(lambda x: common.cell(x, "+.1f")))
detail = detail[["model", "task", "score", "trend", "change", "low", "high", "n_items", "k", "n", "possibly_contaminated",
                 "conventions", "second opinion", "size", "family", "source", "run_id",
                 "finished_at"]].sort_values(["task", "score"], ascending=[True, False])
st.dataframe(detail, hide_index=True, width="stretch", column_config={
    "score": st.column_config.NumberColumn(metric, format="%.1f"),
    "trend": st.column_config.TextColumn("vs previous run", help="against this model's previous run of the task"),
    "change": st.column_config.TextColumn("change", help="points against the previous run"),
    "low": st.column_config.NumberColumn("95% low", format="%.1f"),
    "high": st.column_config.NumberColumn("95% high", format="%.1f"),
    "n_items": "items",
    "n": st.column_config.NumberColumn("samples", help="samples per item (maj@k is estimated from n >= k)"),
    "possibly_contaminated": st.column_config.NumberColumn(
        "exported items", help="items of this task that were exported as training data before this run: "
        "their scores may be contaminated"),
    "finished_at": st.column_config.DatetimeColumn("scored at", format="YYYY-MM-DD HH:mm"),
    "conventions": st.column_config.TextColumn(
        "conventions", help="math: the named conventions the answers were graded under (strict, lenient) and any "
        "single flags; `harness regrade --run ID --conventions lenient` grades a run again from its samples"),
    "second opinion": st.column_config.TextColumn(
        "second opinion", help="samples a second grader (Math-Verify, `harness audit --run ID`) judged otherwise: "
        "how much of the score depends on the grader"),
})
flagged = detail[detail["possibly_contaminated"].fillna(0) > 0]
if not flagged.empty:
    st.warning("Possibly contaminated: " + "; ".join(
        f"{r.model} on {r.task}: {int(r.possibly_contaminated)} of {r.n_items} items were exported for training"
        for r in flagged.itertuples()))
st.altair_chart(charts.scores_by_task(detail, metric))

grading.second_opinion_section(rows)
