"""Nightly results as the pages show them: pure pandas over `night_checks` rows (no Streamlit).

A domain's trajectory is its score night after night for one model; a domain **fell while another
was tuned** when its verdict that night was `regressed` and the night's tuned domain was another
one: the gain being trained for may be hiding a loss elsewhere.
"""

from __future__ import annotations

import pandas as pd


def domain_trajectory(checks: pd.DataFrame, model: str) -> pd.DataFrame:
    """One row per night and domain for `model`, in night order, with `fell_while_tuning` (the
    tuned domain, or None) and `night_no` (1, 2, ... in start order)."""
    rows = checks[(checks["model"] == model) & (checks["scope"] == "domain")].copy()
    if rows.empty:
        return rows.assign(fell_while_tuning=pd.Series(dtype=object), night_no=pd.Series(dtype=int))
    order = (rows.drop_duplicates("night_id").sort_values(["night_started", "night_id"])["night_id"].tolist())
    rows["night_no"] = rows["night_id"].map({n: i + 1 for i, n in enumerate(order)})
    tuned = rows["tuned_domain"].where(rows["tuned_domain"].notna(), None)
    fell = (rows["status"] == "regressed") & tuned.notna() & (tuned != rows["domain"])
    rows["fell_while_tuning"] = tuned.where(fell, None)
    return rows.sort_values(["night_no", "domain"]).reset_index(drop=True)


def phases(trajectory: pd.DataFrame) -> pd.DataFrame:
    """The nights of a trajectory with their phase label and tuned domain (one row per night)."""
    cols = ["night_no", "night_id", "night_started", "label", "tuned_domain"]
    if trajectory.empty:
        return pd.DataFrame(columns=cols)
    return trajectory.drop_duplicates("night_id")[cols].reset_index(drop=True)
