"""Loop: what `harness loop` (and `harness demo`) measured. Per phase and test pool: each arm's gain
over the base with its interval across seeds, teachable against random directly, every (arm, seed)
with its model's lineage, and links to the exports and to the items. `loop?loop=ID` opens one loop."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import altair as alt
import pandas as pd
import streamlit as st

from harness.leaderboard import common, data

st.title("Loop")
path = data.db_path()
if not path.exists():
    st.info(f"No results store at `{path}` yet.")
    st.markdown(common.how_to_fill(path))
    st.stop()
loops = data.read("loops").df
if loops.empty:
    st.info("No loop in this store yet. `harness loop -c loop.toml` (start from `harness loop --example demo`) "
            "selects training items from a selection pool, fine-tunes each arm at several seeds, and measures "
            "every arm and the base on a test pool that no arm chose. `harness demo` runs one on the embedded models.")
    st.stop()

ids = loops["loop_id"].tolist()
wanted = st.query_params.get("loop")
loop_id = st.selectbox("Loop", ids, index=ids.index(wanted) if wanted in ids else 0, key="loop_pick",
                       help="newest first: name and a digest of its config")
if st.query_params.get("loop") != loop_id:
    st.query_params["loop"] = loop_id
row = loops[loops["loop_id"] == loop_id].iloc[0]
config = json.loads(row["config"])
summary = json.loads(row["summary"]) if isinstance(row["summary"], str) else None
if summary is None:
    st.warning("This loop has not finished (or was interrupted): rerun it, every finished stage is reused.")
c1, c2, c3, c4 = st.columns(4)
c1.metric("student", config["student"])
c2.metric("teacher", config.get("teacher") or "none")
c3.metric("seeds per arm", len(config["seeds"]))
c4.metric("samples per item (k)", config["k"])
recipe = config["recipe"]
st.caption(f"Arms: {', '.join(config['arms'])}. Recipe: {recipe['steps']} steps, learning rate "
           f"{recipe['learning_rate']}, batch {recipe['batch_size']}"
           + (f", LoRA r={recipe['lora_r']}" if recipe.get("lora_r") else ", full weights")
           + (f", rehearsal mix `{recipe['mix']}`" if recipe.get("mix") else "") + ".")

arms = data.read("loop_arms", loop_id).df
if summary is None or arms.empty:
    st.stop()


def pts(x: float | None) -> str:
    return "n/a" if x is None or pd.isna(x) else f"{100 * x:+.1f}"


for ph in summary["phases"]:
    st.header(f"Phase {ph['phase']}: {ph['label']}")
    sel = ph["selection"]
    st.caption(f"Selection pool: {sel['items']} items of {sel['task']}"
               + (f", {sel['teachable']} teachable" if sel.get("teachable") is not None else "")
               + f". No training file names or asks any of the {ph['checked_test_items']} test items (checked).")
    for test in ph["test_pools"]:
        task = test["task"]
        st.subheader(f"Test pool: {test['items']} {task} items no arm chose")
        v = ph["teachable_vs_random"].get(task)
        if v is not None:
            won = v["ci_low"] > 0
            text = (f"Teachable against random: {pts(v['diff'])} points, 95% CI [{pts(v['ci_low'])}, {pts(v['ci_high'])}], "
                    f"p = {v['p_value']:.2g}, pooled over {v['seeds']} seeds.")
            (st.success if won else st.info)(("Teachable beat random. " if won else "Teachable did not beat random "
                                               "with confidence. ") + text)
        for dv in ph.get("dpo", {}).get("versus", {}).get(task, {}).values():  # the [dpo] arms
            text = (f"{dv['a']} against {dv['b']}: {pts(dv['diff'])} points, 95% CI [{pts(dv['ci_low'])}, "
                    f"{pts(dv['ci_high'])}], p = {dv['p_value']:.2g}, pooled over {dv['seeds']} seeds.")
            (st.success if dv["ci_low"] > 0 else st.info)(text)
        pooled = pd.DataFrame([p for p in ph["pooled"] if p["task"] == task])
        base = pd.DataFrame([{"arm": "base", "after": test["base"], "diff": 0.0, "ci_low": 0.0, "ci_high": 0.0,
                              "seeds": 1, "spread": None, "p_value": None}])
        table = pd.concat([base, pooled], ignore_index=True)
        chart = alt.Chart(table[table["arm"] != "base"]).encode(y=alt.Y("arm:N", title=None))
        st.altair_chart(
            chart.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q", title="gain over the base (maj@k), 95% CI",
                                                          axis=alt.Axis(format="+%")), x2="ci_high:Q")
            + chart.mark_point(filled=True, size=80).encode(x="diff:Q", tooltip=["arm", "diff", "ci_low", "ci_high", "p_value"])
            + alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4], color="gray").encode(x="x:Q"),
            width="stretch")
        shown = table.assign(score=100 * table["after"], gain=[pts(x) for x in table["diff"]],
                             interval=[f"[{pts(a)}, {pts(b)}]" if r != "base" else "" for a, b, r in
                                       zip(table["ci_low"], table["ci_high"], table["arm"])],
                             spread=[None if s is None or pd.isna(s) else 100 * s for s in table["spread"]])
        st.dataframe(shown[["arm", "score", "gain", "interval", "p_value", "seeds", "spread"]], hide_index=True,
                     width="stretch", column_config={
                         "score": st.column_config.NumberColumn("maj@k (%)", format="%.1f",
                                                                help="mean over the arm's seeds"),
                         "gain": "vs base (points)", "interval": "95% CI",
                         "spread": st.column_config.NumberColumn("spread (sd, points)", format="%.1f",
                                                                 help="of the per-seed scores")})
        rows = arms[(arms["phase"] == ph["phase"]) & (arms["task"] == task) & (arms["arm"] != "base")]
        rows = rows.assign(
            score=100 * rows["score"], gain=[pts(x) for x in rows["diff"]],
            interval=[f"[{pts(a)}, {pts(b)}]" for a, b in zip(rows["diff_low"], rows["diff_high"])],
            items=["items?" + urlencode({"task": task, "models": f"{m},{config['student']}", "run": r})
                   for m, r in zip(rows["model"], rows["run_id"])],
            digest=[str(d)[:12] if isinstance(d, str) else "" for d in rows["data_sha256"]])
        st.dataframe(rows[["arm", "seed", "model", "n_train", "n_trained", "score", "gain", "interval", "p_value",
                           "base", "digest", "export_path", "items"]],
                     hide_index=True, width="stretch", column_config={
                         "n_train": st.column_config.NumberColumn("items picked", help="selected by the arm"),
                         "n_trained": st.column_config.NumberColumn(
                             "items in its weights", help="its lineage: items and variants' parents it trained on, "
                                                          "ancestors' included; its scores on them are flagged"),
                         "score": st.column_config.NumberColumn("maj@k (%)", format="%.1f"),
                         "gain": "vs base", "interval": "95% CI", "base": "trained from",
                         "digest": "training data (sha256)", "export_path": "export",
                         "items": st.column_config.LinkColumn("items", display_text="open",
                                                              help="this model's samples beside the base's")})
