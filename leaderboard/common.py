"""Pieces every page shares: the sidebar, the empty-store guidance, pickers, notes, derived tables.

Derived tables (intervals, comparisons) are cached with `st.cache_data` on the tokens of the query
results they come from, so they are recomputed only when the store changed."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from harness.analysis import numbers
from harness.errors import HarnessError

from harness.leaderboard import data, metrics

METRIC_HELP = (
    "maj@k: the majority answer over k samples is correct. pass@1: share of correct samples. "
    "pass@k: chance that at least one of k samples is correct (unbiased estimate)."
)


def how_to_fill(path: Path) -> str:
    return (
        f"Make some results, then reload this page:\n\n"
        f"```\nharness demo --db {path}          # a tiny local model: no GPU, no network\n"
        f"harness run --model phi --task arith -k 8 --db {path}\n"
        f"harness run --model 70b --task arith -k 8 --db {path}\n```"
    )


def sidebar() -> None:
    path = data.db_path()
    with st.sidebar:
        st.caption("Results store (read-only)")
        st.code(str(path), language=None)
        changed = data.changed_at(path)
        st.caption(f"last change {changed:%Y-%m-%d %H:%M:%S}" if changed else "no store file yet")
        if st.button("Reload", help="Read the store again (any click on a page also re-reads a store that changed)"):
            st.rerun()


def scores_or_stop(allow_unfinished: bool = False) -> data.Loaded:
    """All scored (run, task) rows; when there are none, says what to do and stops the page (also
    when no run has finished, unless `allow_unfinished`: History shows runs in progress)."""
    path = data.db_path()
    if not path.exists():
        st.info(f"No results store at `{path}` yet.")
        st.markdown(how_to_fill(path))
        st.stop()
    try:
        scores = data.read("task_scores")
    except HarnessError as exc:
        st.warning(str(exc))
        st.stop()
    if scores.df.empty:
        runs = data.read("runs").df
        if not runs.empty and (runs["status"] == "running").any():
            st.info(f"A run is in progress in `{path}` ({len(runs)} run(s), none scored yet): results "
                    "appear here as soon as its first task is scored.")
        else:
            st.info(f"The store `{path}` holds no scored runs yet.")
        st.markdown(how_to_fill(path))
        st.stop()
    if not (scores.df["status"] == "done").any():
        st.info(f"No run in `{path}` has finished yet: scores show here once one has (the History page "
                "shows the tasks scored so far).")
        if not allow_unfinished:
            st.stop()
    return scores


def stale_note(*loaded: data.Loaded) -> None:
    """Say so when a writer held the store and some of the page comes from the last good read."""
    stale = [x.stale_since for x in loaded if x.stale_since is not None]
    if stale:
        at = time.strftime("%H:%M:%S", time.localtime(min(stale)))
        st.caption(f"A run is writing to the store; part of this page is as read at {at}. "
                   "It updates on the next reload once the writer lets go.")


def metric_picker(key: str) -> str:
    return st.radio("Metric", metrics.METRICS, horizontal=True, key=key, help=METRIC_HELP)


@st.cache_data(max_entries=64, show_spinner=False)
def _scored(path: str, tokens: tuple, metric: str, pairs: tuple, _rows: pd.DataFrame,
            _hist: pd.DataFrame) -> pd.DataFrame:
    return metrics.with_intervals(_rows, _hist, metric)


def scored(scores: data.Loaded, metric: str, latest_only: bool = True, models: list[str] | None = None,
           task: str | None = None) -> tuple[pd.DataFrame, data.Loaded | None]:
    """Task-score rows (latest per model and task, or every run; optionally only some models and
    one task) with `score`, `low`, `high` for `metric`, and the histogram read the intervals came
    from (None when there are no rows)."""
    rows = metrics.latest(scores.df) if latest_only else scores.df
    if models is not None:
        rows = rows[rows["model"].isin(models)]
    if task is not None:
        rows = rows[rows["task"] == task]
    pairs = (tuple(rows["run_id"]), tuple(rows["task"]))
    hist = None if rows.empty else data.read("value_histograms", *pairs)
    hist_df = hist.df if hist is not None else pd.DataFrame(columns=["run_id", "task", "metric", "value", "items"])
    tokens = (scores.token, hist.token if hist is not None else None)
    return _scored(str(data.db_path()), tokens, metric, pairs, rows, hist_df), hist


def pct(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Fractions to percentages rounded to 0.1 for display, by the rounding the CLI and the story use
    (`harness.analysis.numbers.points`), so a number reads the same everywhere."""
    out = df.copy()
    for c in cols:
        out[c] = pd.to_numeric(out[c].map(numbers.points), errors="coerce")
    return out


def cell(x: object, fmt: str = ".1f") -> str:
    """A table cell as text: a number formatted, a missing value blank (never "None" or "nan")."""
    if x is None or (isinstance(x, float) and x != x):
        return ""
    return format(x, fmt) if isinstance(x, (int, float)) else str(x)


def models_by_size(scores: pd.DataFrame) -> list[str]:
    """Model names, smallest first (unknown sizes last)."""
    sizes = scores.sort_values("finished_at").groupby("model")["params_b"].last()
    return sorted(sizes.index, key=lambda m: (pd.isna(sizes[m]), sizes[m] if not pd.isna(sizes[m]) else 0.0, m))
