"""Training queue: the items `harness teach` queued for a model to learn (by model, task and the
reason each was queued), the edge they sit on (the model's pass rate on them), the SFT files
`harness export-sft` wrote from them, and each item linked to its samples. `queue?model=M` opens
on one model (`queue?models=A,B` on several), and the URL follows the models picked. Where the items
have traits of their own (a template, a subject and level, a number of steps) the page opens on the
queue grouped by them, each group's prompts one click away: what to train on next."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from harness.leaderboard import charts, common, data, metrics, queue_groups

REASONS = {"own_samples": "some of its own samples are right", "teacher": "a stronger model solves it reliably"}

st.title("Training queue")
path = data.db_path()
if not path.exists():
    st.info(f"No results store at `{path}` yet.")
    st.markdown(common.how_to_fill(path))
    st.stop()
queue = data.read("train_queue")
q = queue.df
common.stale_note(queue)

scores = data.read("task_scores").df
done = scores[scores["status"] == "done"]
models = common.models_by_size(done) if not done.empty else []
if q.empty:
    small = models[0] if models else "phi"
    teacher = f" --teacher {models[-1]}" if len(models) > 1 else ""
    st.info(f"Nothing is queued for training in `{path}` yet. `harness teach` queues the items a model fails by "
            "majority vote but could learn (some of its own samples are right, or a stronger teacher model "
            "solves them reliably); `harness export-sft` writes them as SFT data and marks them exported.")
    st.markdown(f"```\nharness teach --model {small}{teacher} --db {path}\n"
                f"harness export-sft --model {small} --out sft.jsonl --db {path}\n```")
    if not models:
        st.markdown("The store has no finished runs to queue from yet:\n\n" + common.how_to_fill(path))
    st.stop()

c1, c2, c3, c4 = st.columns(4)
queued = set(q["model"])
all_models = [m for m in models if m in queued] + sorted(queued - set(models))  # smallest first
q_models = [m for m in all_models if m in st.query_params.get("models", "").split(",")]
wanted = [st.query_params["model"]] if st.query_params.get("model") in all_models else q_models
model_pick = c1.multiselect("Models", all_models, default=wanted or all_models,
                            key="queue_models", help="whose queue: the model that should learn the items")
# The URL follows the picker (all models: no parameter), so a link opens exactly this queue.
picked = [m for m in all_models if m in model_pick]
url = {"model": picked[0]} if len(picked) == 1 else (
    {} if len(picked) in (0, len(all_models)) else {"models": ",".join(picked)})
if st.query_params.to_dict() != url:
    st.query_params.from_dict(url)
tasks = sorted(q["task"].unique())
task_pick = c2.multiselect("Tasks", tasks, default=tasks, key="queue_tasks")
reason_pick = c3.multiselect("Reason", sorted(q["reason"].unique()), default=sorted(q["reason"].unique()),
                             key="queue_reasons", help="; ".join(f"{k}: {v}" for k, v in REASONS.items()))
status = c4.radio("Status", ["all", "pending", "exported"], horizontal=True, key="queue_status")
shown = q[q["model"].isin(model_pick) & q["task"].isin(task_pick) & q["reason"].isin(reason_pick)]
if status != "all":
    shown = shown[shown["exported_at"].notna() == (status == "exported")]

m1, m2, m3 = st.columns(3)
m1.metric("queued items", len(shown))
m2.metric("pending", int(shown["exported_at"].isna().sum()), help="not exported yet")
m3.metric("exported", int(shown["exported_at"].notna().sum()),
          help="written as SFT data: later scores on them are flagged as possibly contaminated")
if shown.empty:
    st.info("No queued item matches these filters.")
    st.stop()

shown = queue_groups.with_traits(shown)


def _samples_link(r) -> str:
    return "items?" + urlencode({"task": r.task, **({"models": f"{r.model},{r.teacher}"} if isinstance(r.teacher, str)
                                                   else {"model": r.model}), "item": r.item_id}, safe=",")


traits = queue_groups.trait_names(shown)
if traits:
    st.subheader("What to train on next")
    st.caption("The queued items grouped by what they have in common: the item's own "
               f"{', '.join(traits)}. The groups with the most pending items first; open one for its prompts.")
    trait = st.radio("Group by", traits, horizontal=True, key="queue_trait") if len(traits) > 1 else traits[0]
    grouped = queue_groups.groups(shown, trait)
    st.dataframe(grouped.assign(mean_pass_rate=100 * grouped["mean_pass_rate"], share=100 * grouped["share"]),
                 hide_index=True, width="stretch", column_config={
                     trait: st.column_config.TextColumn(trait),
                     "mean_pass_rate": st.column_config.NumberColumn("mean pass rate (%)", format="%.1f"),
                     "share": st.column_config.NumberColumn("share of the queue (%)", format="%.0f")})
    for value in grouped[trait].head(12):
        members = shown[shown[trait].astype(str) == str(value)]
        pending = int(members["exported_at"].isna().sum())
        with st.expander(f"{trait} {value}: {len(members)} item(s), {pending} pending"):
            st.dataframe(common.pct(members.assign(samples=[_samples_link(r) for r in members.itertuples()]),
                                    ["pass_rate"])[["task", "item_id", "prompt", "pass_rate", "samples"]],
                         hide_index=True, width="stretch", column_config={
                             "item_id": "item", "prompt": st.column_config.TextColumn("prompt", width="large"),
                             "pass_rate": st.column_config.NumberColumn("pass rate (%)", format="%.1f"),
                             "samples": st.column_config.LinkColumn("samples", display_text="open")})

st.subheader("By model, task and reason")
summary = common.pct(metrics.queue_summary(shown), ["mean_pass_rate"])
st.dataframe(summary, hide_index=True, width="stretch", column_config={
    "mean_pass_rate": st.column_config.NumberColumn("mean pass rate (%)", format="%.1f",
                                                    help="the model's own pass@1 on these items, on average"),
    "reason": st.column_config.TextColumn("reason", help="; ".join(f"{k}: {v}" for k, v in REASONS.items()))})

st.subheader("The edge: the model's pass rate on queued items")
st.caption("An item is queued when the model's majority answer is wrong but some of its samples are right "
           "(pass rate between 0 and 1: the knowledge is there, not yet reliable), or none are and a teacher "
           "solves it. Items far to the right are nearly learnt; items at 0 rely on the teacher.")
st.altair_chart(charts.queue_edge(metrics.pass_rate_histogram(shown)), width="stretch")

st.subheader("Exports")
ex = metrics.exports(q[q["model"].isin(model_pick)])
if ex.empty:
    first = model_pick[0] if model_pick else all_models[0]
    st.info(f"Nothing exported yet: `harness export-sft --model {first} --out sft.jsonl --db {path}` writes the "
            "pending items as SFT data and marks them exported.")
else:
    st.dataframe(ex, hide_index=True, width="stretch", column_config={
        "export_path": "file", "exported_at": st.column_config.DatetimeColumn("exported", format="YYYY-MM-DD HH:mm")})

st.subheader("Queued items")
order = {iid: n for n, iid in enumerate(metrics.sort_item_ids(shown["item_id"].unique().tolist()))}
items = shown.sort_values(["model", "task", "item_id"], key=lambda s: s.map(order) if s.name == "item_id" else s)
items = items.assign(samples=[_samples_link(r) for r in items.itertuples()])
items = common.pct(items, ["pass_rate", "teacher_pass_rate"])
st.dataframe(
    items[["model", "task", "item_id", *traits, "prompt", "reason", "pass_rate", "teacher", "teacher_pass_rate",
           "queued_at", "exported_at", "export_path", "samples"]],
    hide_index=True, width="stretch", column_config={
        "item_id": "item", "pass_rate": st.column_config.NumberColumn("pass rate (%)", format="%.1f"),
        "teacher_pass_rate": st.column_config.NumberColumn("teacher's (%)", format="%.1f"),
        "queued_at": st.column_config.DatetimeColumn("queued", format="YYYY-MM-DD HH:mm"),
        "exported_at": st.column_config.DatetimeColumn("exported", format="YYYY-MM-DD HH:mm"),
        "export_path": "file",
        "samples": st.column_config.LinkColumn("samples", display_text="open",
                                               help="the model's samples of this item (beside the teacher's)")})
