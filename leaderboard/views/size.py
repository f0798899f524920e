"""Small vs large: score against parameter count (log axis) per task with the Pareto frontier, and
each model's gain from majority voting (maj@k minus pass@1)."""

from __future__ import annotations

import streamlit as st

from harness.leaderboard import charts, common, metrics

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
    st.dataframe(
        sized[["model", "params_b", "family", "score", "low", "high", "frontier", "n_items", "k"]]
        .sort_values("params_b"),
        hide_index=True, width="stretch", column_config={
            "params_b": st.column_config.NumberColumn("params (B)", format="%.4g"),
            "score": st.column_config.NumberColumn(metric, format="%.1f"),
            "low": st.column_config.NumberColumn("95% low", format="%.1f"),
            "high": st.column_config.NumberColumn("95% high", format="%.1f"),
            "n_items": "items"})
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
