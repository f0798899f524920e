"""Item explorer: one item's prompt and gold answer, and every sample of one or more models side by
side, each in full (wrapped, LaTeX rendered, the extracted answer highlighted, thinking folded) with
its verdict and the vote distribution; where `harness pivotal` searched a sample, its success
probability along its tokens and its pivotal tokens marked in the text. The item list filters by task, model, run, majority verdict
and agreement (the majority answer's vote share).

Deep links: `items?task=T&model=M&item=ID` (or `models=A,B` for A beside B, `run=RUN` for a run
other than the latest). The URL follows the page, so it can be copied and shared; a linked item is
offered whatever the filters and however many items the task has."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from harness import thinking
from harness.analysis.pivotal import wilson
from harness.leaderboard import charts, common, data, markup, metrics

MAX_OPTIONS = 1000  # items listed in the picker (any other id can be typed in, and a linked one is added)
VERDICT_BADGE = {"correct": "green", "incorrect": "red", "unparseable": "gray", "timeout": "orange"}



def forget_item() -> None:
    """Another task, run or filter: the item picker starts again from the URL's item (kept where the
    new list has it). Typed ids are accepted, so the picker would otherwise keep an id of the old list."""
    st.session_state.pop("items_item", None)


st.title("Item explorer")
scores = common.scores_or_stop()
df = scores.df
q = st.query_params
linked = "items_task" not in st.session_state  # the page's first run: it opens what the URL links to
q_models = [m for m in q.get("models", "").split(",") if m]
q_model = q.get("model") or (q_models[0] if q_models else None)

c1, c2, c3 = st.columns(3)
tasks = sorted(df["task"].unique())
q_task = q.get("task")
task = c1.selectbox("Task", tasks, index=tasks.index(q_task) if q_task in tasks else 0, key="items_task",
                    on_change=forget_item)
models = common.models_by_size(df[df["task"] == task])
model = c2.selectbox("Model", models, index=models.index(q_model) if q_model in models else 0, key="items_model",
                     help="its run's items are listed below", on_change=forget_item)
runs = df[(df["task"] == task) & (df["model"] == model)].sort_values("finished_at", ascending=False)
run_ids = runs["run_id"].tolist()
q_run = q.get("run")
run_id = c3.selectbox("Run", run_ids, index=run_ids.index(q_run) if q_run in run_ids else 0, key="items_run",
                      help="latest first", on_change=forget_item)
run = runs[runs["run_id"] == run_id].iloc[0]

loaded = data.read("item_outcomes", (run_id,), (task,))
items = loaded.df.copy()
items["majority"] = metrics.majority_verdict(items)
f1, f2 = st.columns(2)
verdicts = f1.multiselect("Majority verdict", ["correct", "incorrect", "no answer"],
                          default=["correct", "incorrect", "no answer"], key="items_verdict", on_change=forget_item)
low, high = f2.slider("Agreement (majority answer's share of samples)", 0.0, 1.0, (0.0, 1.0), step=0.05,
                      key="items_agreement", on_change=forget_item)
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

all_ids = set(items["item_id"])
wanted = q.get("item")
ids = shown["item_id"].tolist()[:MAX_OPTIONS]
# The item in the URL is offered beyond the picker's cap; a linked item even when the filters hide it.
if wanted in all_ids and wanted not in ids and (linked or wanted in set(shown["item_id"])):
    ids = [wanted, *ids]
if not ids:
    st.info("No item matches these filters.")
    st.stop()
item_id = st.selectbox("Item", ids, index=ids.index(wanted) if wanted in ids else 0, key="items_item",
                       accept_new_options=True, help="pick one, or type any item id of this run")
if len(shown) > MAX_OPTIONS:
    st.caption(f"The picker lists the first {MAX_OPTIONS} of {len(shown)} matching items; type an id for any other.")
if item_id not in all_ids:
    st.warning(f"Run `{run_id}` has no item {markup.code_span(item_id)} of {task}.")
    st.stop()

row = items[items["item_id"] == item_id].iloc[0]
have = data.read("item_runs", task, item_id).df
done = have[have["status"] == "done"].drop_duplicates("model")  # newest first: each model's latest run
others = [m for m in common.models_by_size(df[df["task"] == task]) if m != model and m in set(done["model"])]
beside = st.multiselect("Side by side with", others, default=[m for m in q_models if m in others],
                        key="items_with", help="other models' latest finished runs with this item")

# The URL follows the page: copy it to share exactly this view.
wanted_params = {"task": task, "item": item_id}
if beside:
    wanted_params["models"] = ",".join([model, *beside])
else:
    wanted_params["model"] = model
if run_id != run_ids[0]:
    wanted_params["run"] = run_id
if q.to_dict() != wanted_params:
    q.from_dict(wanted_params)

item = data.read("item", task, int(run["task_version"]), item_id).df
st.subheader(f"{task} / item {item_id}")
st.metric("gold", "—" if pd.isna(row["gold"]) else str(row["gold"]))
prompts = item.dropna(subset=["prompt"]) if not item.empty else item
for _, p in prompts.iterrows():
    label = "Prompt" if len(prompts) == 1 else f"Prompt variant {int(p['variant'])}"
    with st.expander(label, expanded=len(prompts) == 1):
        st.text(json.loads(p["prompt"])["text"])
if not item.empty and item["fields"].iloc[0]:
    with st.expander("Item fields"):
        st.json(item["fields"].iloc[0])


def pivotal_block(s: pd.Series, text: str, curves: pd.DataFrame, marks: pd.DataFrame) -> None:
    """Where this sample went right or wrong (`harness pivotal`): p(correct) from each estimated
    prefix along its tokens, and the text with its pivotal tokens marked."""
    mine = curves[curves["sample"] == int(s["sample_index"])] if not curves.empty else curves
    if mine.empty:
        return
    jumps = marks[marks["sample"] == int(s["sample_index"])] if not marks.empty else marks
    with st.expander(f"success probability along the tokens ({len(jumps)} pivotal)", expanded=not jumps.empty):
        points = mine.assign(
            low=[wilson(int(c), int(n))[0] if n else p for c, n, p in zip(mine["n_correct"], mine["n"], mine["p"])],
            high=[wilson(int(c), int(n))[1] if n else p for c, n, p in zip(mine["n_correct"], mine["n"], mine["p"])],
            prefix_end=[str(x)[-20:] for x in mine["prefix"]])
        shown = jumps.assign(end=jumps["position"] + 1, direction=["rises" if d > 0 else "falls" for d in jumps["delta"]])
        st.altair_chart(charts.success_curve(points[["position", "p", "low", "high", "n", "prefix_end"]], shown))
        spans = [(len(str(m["prefix"])), len(str(m["prefix"])) + len(str(m["token"])), float(m["delta"]))
                 for _, m in jumps.iterrows() if text[len(str(m["prefix"])):].startswith(str(m["token"]))]
        st.markdown(markup.pivotal_markdown(text, spans))
        for _, m in jumps.iterrows():
            st.caption(f"token {int(m['position'])} {markup.code_span(repr(str(m['token'])))}: p "
                       f"{float(m['p_before']):.2f} → {float(m['p_after']):.2f} (Δ {float(m['delta']):+.2f}, 95% CI "
                       f"{float(m['delta_low']):+.2f} to {float(m['delta_high']):+.2f}; {int(m['n_before'])} rollouts)")


def sample_block(s: pd.Series, curves: pd.DataFrame | None = None, marks: pd.DataFrame | None = None) -> None:
    """One sample: verdict, answer, the full text (answer highlighted) and its thinking folded; where a
    pivotal search covered it, its success-probability curve and pivotal tokens."""
    verdict = str(s["verdict"])
    text = s["text"] if isinstance(s["text"], str) else ""
    parts = thinking.split(text, str(s["finish"]), s["thinking"] if isinstance(s["thinking"], str) else None)
    extracted = s["extracted"] if isinstance(s["extracted"], str) else None
    canonical = s["canonical"] if isinstance(s["canonical"], str) else None
    with st.container(border=True):
        head = [f"**sample {int(s['sample_index'])}**",
                f":{VERDICT_BADGE.get(verdict, 'gray')}-badge[{markup.escape_text(verdict)}]",
                "answer " + (markup.code_span(extracted) if extracted is not None else "—")]
        if canonical is not None and canonical != extracted:
            head.append("canonical " + markup.code_span(canonical))
        if not pd.isna(s["tokens"]):
            head.append(f"{int(s['tokens'])} tokens")
        if s["finish"] != "stop" and isinstance(s["finish"], str):
            head.append(f"finish {markup.code_span(s['finish'])}")
        st.markdown(" · ".join(head))
        if parts.thinking:
            n = s["thinking_tokens"]
            size = f"{int(n)} tokens" if not pd.isna(n) else f"{len(parts.thinking)} characters"
            label = f"thinking ({size}{', never finished' if parts.unfinished else ''})"
            with st.expander(label):
                st.markdown(markup.sample_markdown(parts.thinking))
        if text:
            st.markdown(markup.sample_markdown(parts.answer, extracted, verdict))
        else:
            st.caption("no text stored for this sample")
        if isinstance(s["detail"], str) and s["detail"]:
            st.caption(markup.escape_text(s["detail"]))
        if curves is not None and marks is not None and text:
            pivotal_block(s, text, curves, marks)


def model_column(name: str, rid: str, r: pd.Series) -> None:
    samples = data.read("samples", rid, task, item_id).df
    st.markdown(f"### {markup.escape_text(name)}")
    st.caption(f"run `{rid}`")
    m1, m2 = st.columns(2)
    m1.metric("majority answer", "—" if pd.isna(r["maj_answer"]) else str(r["maj_answer"]),
              help="canonical form of the most common answer")
    m2.metric("correct samples", f"{int(r['n_correct'])} / {int(r['n'])}",
              help="majority " + ("correct" if bool(r["maj_correct"]) else "wrong"))
    dist = metrics.vote_distribution(samples)
    if not dist.empty:
        st.altair_chart(charts.votes(dist))
    if samples.empty:
        st.info("No samples stored for this item in this run.")
    curves = data.read("pivotal_curves", rid, task, item_id).df
    marks = data.read("pivotal_marks", rid, task, item_id).df
    for _, s in samples.iterrows():
        sample_block(s, curves, marks)


chosen = [(model, run_id, row)] + [(m, r["run_id"], r) for m in beside
                                   for _, r in done[done["model"] == m].head(1).iterrows()]
for col, (name, rid, r) in zip(st.columns(len(chosen)), chosen):
    with col:
        model_column(name, rid, r)
