"""History: score over time per model and task from successive runs, with 95% intervals, each
model's runs (the Leaderboard's "runs & history" link opens this page with ?model=NAME), and each
domain's trajectory across nightly runs with their tuning phases."""

from __future__ import annotations

import streamlit as st

from harness.leaderboard import charts, common, data, nights

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

# -- domains across nights ---------------------------------------------------------------------
checks = data.read("night_checks").df
night_models = [m for m in chosen if m in set(checks["model"])]
if night_models:
    st.subheader("Domains across nights")
    st.caption("Each domain's maj@k on its held-out tasks, night after night, with each night's tuning phase. "
               "A domain that regressed while another was being tuned is flagged: a gain in one domain must not "
               "hide a loss in another.")
    for m in night_models:
        traj = nights.domain_trajectory(checks, m)
        if traj.empty:
            continue
        st.markdown(f"**{m}**")
        shown_t = common.pct(traj, ["score"])
        st.altair_chart(charts.domain_history(shown_t), width="stretch")
        ph = nights.phases(traj)
        st.table(ph.assign(label=ph["label"].fillna("—"), tuned_domain=ph["tuned_domain"].fillna("—"))
                 .rename(columns={"night_no": "night", "night_id": "night id", "night_started": "started",
                                  "label": "phase", "tuned_domain": "tuning"}).set_index("night"))
        for _, r in traj[traj["fell_while_tuning"].notna()].iterrows():
            st.warning(f"{m}: domain {r['domain']} fell {100 * r['diff']:+.1f} points on night {r['night_id']} "
                     f"while {r['fell_while_tuning']} was being tuned (phase: {r['label'] or '—'})",
                     icon=":material/trending_down:")
