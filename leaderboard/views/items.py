"""Item explorer: one item's prompt, gold answer and every sample (raw text, extracted and canonical
answer, verdict) with the vote distribution; the item list filters by task, model, run, majority
verdict and agreement (the majority answer's vote share)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from harness.leaderboard import charts, common, data, metrics

MAX_OPTIONS = 1000  # items offered in the picker; narrow the filters for the rest

st.title("Item explorer")
scores = common.scores_or_stop()
df = scores.df

c1, c2, c3 = st.columns(3)
tasks = sorted(df["task"].unique())
q_task, q_model = st.query_params.get("task"), st.query_params.get("model")  # links from nightly reports
task = c1.selectbox("Task", tasks, index=tasks.index(q_task) if q_task in tasks else 0, key="items_task")
models = common.models_by_size(df[df["task"] == task])
model = c2.selectbox("Model", models, index=models.index(q_model) if q_model in models else 0, key="items_model")
runs = df[(df["task"] == task) & (df["model"] == model)].sort_values("finished_at", ascending=False)
run_id = c3.selectbox("Run", runs["run_id"].tolist(), key="items_run", help="latest first")
run = runs[runs["run_id"] == run_id].iloc[0]

loaded = data.read("item_outcomes", (run_id,), (task,))
items = loaded.df.copy()
items["majority"] = metrics.majority_verdict(items)
f1, f2 = st.columns(2)
verdicts = f1.multiselect("Majority verdict", ["correct", "incorrect", "no answer"],
                          default=["correct", "incorrect", "no answer"], key="items_verdict")
low, high = f2.slider("Agreement (majority answer's share of samples)", 0.0, 1.0, (0.0, 1.0), step=0.05,
                      key="items_agreement")
shown = items[items["majority"].isin(verdicts) & items["vote_share"].between(low - 1e-9, high + 1e-9)]
order = {iid: n for n, iid in enumerate(metrics.sort_item_ids(shown["item_id"].tolist()))}
shown = shown.sort_values("item_id", key=lambda s: s.map(order))
common.stale_note(scores, loaded)

st.caption(f"{len(shown)} of {len(items)} items of run `{run_id}` (k = {int(run['k'])}).")
st.dataframe(
    shown[["item_id", "gold", "maj_answer", "majority", "n_correct", "n", "vote_share", "n_classes",
           "n_unparseable", "n_timeout"]],
    hide_index=True, width="stretch", height=260, column_config={
        "item_id": "item", "maj_answer": "majority answer", "n_correct": "correct samples", "n": "samples",
        "vote_share": st.column_config.NumberColumn("agreement", format="%.2f"), "n_classes": "answer classes",
        "n_unparseable": "unparseable", "n_timeout": "timeout"})
if shown.empty:
    st.info("No item matches these filters.")
    st.stop()

ids = shown["item_id"].tolist()[:MAX_OPTIONS]
wanted = st.query_params.get("item")
item_id = st.selectbox("Item", ids, index=ids.index(wanted) if wanted in ids else 0, key="items_item")
if len(shown) > MAX_OPTIONS:
    st.caption(f"The picker offers the first {MAX_OPTIONS} matching items; narrow the filters for others.")

row = shown[shown["item_id"] == item_id].iloc[0]
item = data.read("item", task, int(run["task_version"]), item_id).df
samples = data.read("samples", run_id, task, item_id).df

st.subheader(f"{task} / item {item_id}")
m1, m2, m3, m4 = st.columns(4)
m1.metric("gold", str(row["gold"]))
m2.metric("majority answer", "—" if pd.isna(row["maj_answer"]) else str(row["maj_answer"]))
m3.metric("majority verdict", str(row["majority"]))
m4.metric("correct samples", f"{int(row['n_correct'])} / {int(row['n'])}")

prompts = item.dropna(subset=["prompt"]) if not item.empty else item
for _, p in prompts.iterrows():
    label = "Prompt" if len(prompts) == 1 else f"Prompt variant {int(p['variant'])}"
    with st.expander(label, expanded=len(prompts) == 1):
        st.text(json.loads(p["prompt"])["text"])
if not item.empty and item["fields"].iloc[0]:
    with st.expander("Item fields"):
        st.json(item["fields"].iloc[0])

dist = metrics.vote_distribution(samples)
st.markdown("**Vote distribution**")
v1, v2 = st.columns([2, 1])
v1.altair_chart(charts.votes(dist))
v2.dataframe(dist, hide_index=True, column_config={"share": st.column_config.NumberColumn(format="%.2f")})
st.markdown("**Samples**")
st.dataframe(
    samples[["sample_index", "verdict", "extracted", "canonical", "text", "finish", "tokens", "detail"]],
    hide_index=True, width="stretch", column_config={
        "sample_index": "sample", "text": st.column_config.TextColumn("raw completion", width="large")})
