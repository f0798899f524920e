"""How much of a score depends on the grader: the conventions each task was graded under, and a second
grader's disagreements (`harness audit`), per task and item, for the board's latest runs."""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd
import streamlit as st

from harness.leaderboard import data


def disagreement_text(row: Mapping[str, Any]) -> str:
    """`3.1% (4 of 128 samples, 3 items)` for an audited (run, task), else `not audited`."""
    checked = row.get("audit_checked")
    if checked is None or (isinstance(checked, float) and math.isnan(checked)):
        return "not audited"
    checked, disagree = int(checked), int(row["audit_disagree"])
    if not checked:
        return "no sample judged"
    return f"{100 * disagree / checked:.1f}% ({disagree} of {checked} samples, {int(row['audit_items'])} items)"


def second_opinion_section(rows: pd.DataFrame) -> None:
    """Per task: each model's disagreement rate with the second grader, and the samples it judged
    otherwise (gold, extracted answer, both verdicts)."""
    st.subheader("Second opinion")
    audited = rows[rows["audit_checked"].notna()] if "audit_checked" in rows else rows.iloc[0:0]
    if audited.empty:
        st.caption("No latest run here has a second opinion yet: `harness audit --run ID` (or `harness run ... "
                   "--audit`) grades the math tasks' extracted answers with Math-Verify and stores where it disagrees.")
        return
    table = audited.assign(rate=(audited["audit_rate"] * 100).round(1))[
        ["task", "model", "conventions", "audit_grader", "audit_checked", "audit_disagree", "rate", "audit_items", "n_items"]]
    st.dataframe(table.sort_values(["task", "model"]), hide_index=True, width="stretch", column_config={
        "audit_grader": "second grader", "audit_checked": st.column_config.NumberColumn("samples judged"),
        "audit_disagree": st.column_config.NumberColumn("disagree"),
        "rate": st.column_config.NumberColumn("disagreement %", format="%.1f"),
        "audit_items": st.column_config.NumberColumn("items", help="items with a sample judged otherwise"),
        "n_items": st.column_config.NumberColumn("of items")})
    items = data.read("audit_disagreements", tuple(audited["run_id"]), tuple(audited["task"])).df
    for task, group in items.groupby("task", sort=True):
        with st.expander(f"{task}: {len(group)} samples judged otherwise, {group['item_id'].nunique()} items"):
            st.dataframe(group[["model", "item_id", "sample", "gold", "extracted", "ours", "theirs"]], hide_index=True,
                         width="stretch", column_config={"ours": "our verdict", "theirs": "second grader"})
