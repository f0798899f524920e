"""Nightly: every night's verdict, and one night's report (?night=ID): per-domain and per-task
verdicts with deltas and noise floor, what each model ran, reused or failed, the flipped items."""

from __future__ import annotations

import streamlit as st

from harness.leaderboard import data

st.title("Nightly verdicts")
all_nights = data.read("nights").df
if all_nights.empty:
    st.info("No nightly has run against this store yet: `harness nightly --config nightly.toml` (see the README).")
    st.stop()

st.dataframe(all_nights[["night_id", "suite", "label", "tuned_domain", "verdict", "status", "generated", "reused",
                         "started_at", "harness_version"]],
             hide_index=True, width="stretch", column_config={
                 "night_id": "night", "label": "phase", "tuned_domain": "tuning",
                 "started_at": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm")})
ids = all_nights["night_id"].tolist()
wanted = st.query_params.get("night")
night_id = st.selectbox("Night", ids, index=ids.index(wanted) if wanted in ids else 0, key="nightly_night")
row = data.read("night", night_id).df.iloc[0]
verdict = row["verdict"] or row["status"]
st.subheader(f"Night {night_id}: {verdict}")
if row["label"]:
    st.caption(f"phase: {row['label']}" + (f" · tuning {row['tuned_domain']}" if row["tuned_domain"] else ""))

checks = data.read("night_checks").df
mine = checks[checks["night_id"] == night_id]
if not mine.empty:
    table = mine.assign(
        name=mine["domain"].where(mine["scope"] == "domain", mine["task"]),
        before=(mine["baseline_score"] * 100).round(1), tonight=(mine["score"] * 100).round(1),
        diff=(mine["diff"] * 100).round(1), noise_floor=(mine["noise_floor"] * 100).round(1))
    st.table(table[["model", "scope", "name", "n_items", "before", "tonight", "diff", "p_value", "noise_floor",
                    "fell", "rose", "status"]].rename(columns={"n_items": "items", "noise_floor": "noise floor"})
             .reset_index(drop=True).style.format(
                 {"before": "{:.1f}", "tonight": "{:.1f}", "diff": "{:+.1f}", "p_value": "{:.3g}",
                  "noise floor": "{:.1f}", "fell": "{:.0f}", "rose": "{:.0f}"}, na_rep="—"))
runs = data.read("night_runs", night_id).df
st.markdown("**Runs**")
st.dataframe(runs[["model", "seed", "status", "run_id", "identified", "generated", "reused", "error"]],
             hide_index=True, width="stretch")
if row["report_md"]:
    with st.expander("Full report (markdown)", expanded=False):
        st.markdown(row["report_md"])
