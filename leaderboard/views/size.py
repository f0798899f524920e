"""Small vs large: score against parameter count (log axis) per task with the Pareto frontier, and
each model's gain from majority voting (maj@k minus pass@1), and what each model's answers cost on
the task (Compute: tokens per sample and per correct answer, the thinking's share, unfinished
samples, and the price where the model's spec has one), as `harness compare`'s budget table."""

from __future__ import annotations

import streamlit as st

from harness.leaderboard import charts, common, data, metrics

st.title("Small vs large")
scores = common.scores_or_stop()
metric = common.metric_picker("size_metric")
rows, hist = common.scored(scores, metric)
common.stale_note(scores, *([hist] if hist else []))

tasks = sorted(rows["task"].unique())
task = st.selectbox("Task", tasks, key="size_task")
points = rows[rows["task"] == task].copy()
sized = points[points["params_b"].notna() & (points["params_b"] > 0)].copy()
unsized = sorted(set(points["model"]) - set(sized["model"]))
sized["frontier"] = metrics.pareto(sized)
sized = common.pct(sized, ["score", "low", "high"])

if sized.empty:
    st.info("No model on this task has a parameter count: add `params_b` to its entry in the models file.")
else:
    st.altair_chart(charts.score_vs_size(sized, metric))
    front = sized[sized["frontier"]].sort_values("params_b")["model"].tolist()
    st.markdown(f"**Pareto frontier** on {task} ({metric}): " + ", ".join(f"`{m}`" for m in front)
                + ". No other model is at most as large and at least as good.")
    flagged = sized[sized["possibly_contaminated"].fillna(0) > 0] if "possibly_contaminated" in sized else sized[:0]
    if not flagged.empty:
        st.warning("Possibly contaminated (the weights were trained on scored items, by their lineage): " + "; ".join(
            f"`{r.model}` on {int(r.possibly_contaminated)} of {r.n_items} items"
            + (" (on the frontier)" if r.frontier else "") for r in flagged.itertuples()))
    st.dataframe(
        sized[["model", "params_b", "family", "score", "low", "high", "frontier", "n_items", "k"]
              + (["possibly_contaminated"] if "possibly_contaminated" in sized else [])]
        .sort_values("params_b"),
        hide_index=True, width="stretch", column_config={
            "params_b": st.column_config.NumberColumn("params (B)", format="%.4g"),
            "score": st.column_config.NumberColumn(metric, format="%.1f"),
            "low": st.column_config.NumberColumn("95% low", format="%.1f"),
            "high": st.column_config.NumberColumn("95% high", format="%.1f"),
            "n_items": "items", "possibly_contaminated": st.column_config.NumberColumn(
                "trained on", help="scored items these weights were trained on (their lineage)")})
if unsized:
    st.caption("Not plotted (no parameter count in the models file): " + ", ".join(unsized))

st.subheader("Gain from majority voting")
st.caption("maj@k minus pass@1 in points, per model and task: how much voting over k samples adds to a "
           "single sample. Negative when the wrong answer is the most common one.")
gain = metrics.voting_gain(metrics.latest(scores.df))
gain = common.pct(gain, ["maj_at_k", "pass_at_1", "gain"])
st.altair_chart(charts.voting_gain(gain))
st.dataframe(gain, hide_index=True, width="stretch", column_config={
    "params_b": st.column_config.NumberColumn("params (B)", format="%.4g"),
    "maj_at_k": st.column_config.NumberColumn("maj@k", format="%.1f"),
    "pass_at_1": st.column_config.NumberColumn("pass@1", format="%.1f"),
    "gain": st.column_config.NumberColumn("gain (points)", format="%+.1f")})

st.subheader("Compute")
st.caption(f"What each model's answers on {task} cost, from its latest run: generated tokens (thinking + "
           "answer) per sample and per correct sample, the thinking's share of them, the samples whose "
           "thinking never closed, and with `price_per_mtok` in the model's spec the run's cost and the cost "
           "per correct sample (the budget table of `harness compare`).")
latest_task = metrics.latest(scores.df)
latest_task = latest_task[latest_task["task"] == task]
usage = data.read("task_usage", tuple(latest_task["run_id"]), tuple(latest_task["task"]))
common.stale_note(usage)
spent = metrics.compute(latest_task, usage.df)
spent["maj_at_k"] = (spent["maj_at_k"] * 100).round(1)
spent["thinking_share"] = (spent["thinking_share"] * 100).round(1)
spent["unfinished_rate"] = (spent["unfinished_rate"] * 100).round(1)
counted = spent[spent["mean_tokens"] > 0]
if counted.empty:
    st.info(f"No model's samples on {task} report their token counts.")
else:
    st.altair_chart(charts.accuracy_vs_tokens(counted))
shown = [c for c in metrics.COMPUTE_COLUMNS if c not in ("n_items", "k")
         and not (c in ("forced", "cost", "cost_per_correct") and not (spent[c] > 0).any())]
st.dataframe(spent[shown], hide_index=True, width="stretch", column_config={
    "params_b": st.column_config.NumberColumn("params (B)", format="%.4g"),
    "maj_at_k": st.column_config.NumberColumn("maj@k", format="%.1f"),
    "mean_tokens": st.column_config.NumberColumn("tokens / sample", format="%.1f"),
    "thinking_share": st.column_config.NumberColumn("thinking (%)", format="%.1f"),
    "tokens_per_correct": st.column_config.NumberColumn(
        "tokens / correct", format="%.1f", help="every sample's generated tokens per correct sample"),
    "unfinished_rate": st.column_config.NumberColumn("unfinished (%)", format="%.1f"),
    "forced": st.column_config.NumberColumn("forced", format="%d", help="samples whose thinking was closed at its budget"),
    "cost": st.column_config.NumberColumn("cost / run", format="$%.4g"),
    "cost_per_correct": st.column_config.NumberColumn("cost / correct", format="$%.4g")})
