"""History: score over time per model and task from successive runs, with 95% intervals, and each
model's runs (the Leaderboard's "runs & history" link opens this page with ?model=NAME)."""

from __future__ import annotations

import streamlit as st

from harness.leaderboard import charts, common, data

st.title("History")
scores = common.scores_or_stop(allow_unfinished=True)
df = scores.df
models = common.models_by_size(df)
wanted = st.query_params.get("model")
default = [wanted] if wanted in models else models
c1, c2 = st.columns([2, 1])
chosen = c1.multiselect("Models", models, default=default, key="hist_models")
tasks = sorted(df["task"].unique())
task = c2.selectbox("Task", tasks, key="hist_task")
metric = common.metric_picker("hist_metric")

rows, hist = common.scored(scores, metric, latest_only=False, models=chosen, task=task)
common.stale_note(scores, *([hist] if hist else []))
rows = rows.sort_values("finished_at")
if rows.empty:
    st.info("No runs of the chosen models on this task.")
else:
    rows = common.pct(rows, ["score", "low", "high"])
    st.altair_chart(charts.history(rows, metric))
    st.dataframe(
        rows[["finished_at", "model", "score", "low", "high", "n_items", "k", "run_id", "source"]]
        .sort_values("finished_at", ascending=False),
        hide_index=True, width="stretch", column_config={
            "finished_at": st.column_config.DatetimeColumn("scored at", format="YYYY-MM-DD HH:mm:ss"),
            "score": st.column_config.NumberColumn(metric, format="%.1f"),
            "low": st.column_config.NumberColumn("95% low", format="%.1f"),
            "high": st.column_config.NumberColumn("95% high", format="%.1f"), "n_items": "items"})

st.subheader("Runs")
runs = data.read("runs")
shown = runs.df[runs.df["model"].isin(chosen)]
st.dataframe(shown[["run_id", "model", "status", "k", "tasks", "started_at", "finished_at", "source", "command"]],
             hide_index=True, width="stretch", column_config={
                 "started_at": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm:ss"),
                 "finished_at": st.column_config.DatetimeColumn("finished", format="YYYY-MM-DD HH:mm:ss")})
