"""How the app reads the store while `harness run` writes it.

DuckDB lets one process hold a file for writing and refuses every other process meanwhile, readers
included. The writer (`harness.store.Store`) holds the file only for one short transaction per batch,
so the reader here:

1. never keeps a connection: each query opens the file read-only through
   `Store(path, read_only=True)`, which retries DuckDB's lock error with jittered backoff, runs one
   fixed query and closes, so the writer is never held up for more than a query;
2. caches each result with `st.cache_data`, keyed on the store's last change (the modification time
   and size of the file and its WAL, read with `stat`, which takes no lock), so a page that is
   re-run without a change in the store does not touch the file at all;
3. when the store changed but the writer holds it longer than `BUSY_WAIT_S`, serves the last good
   result of that query with a note saying so, instead of making the user wait or see an error.
   Only a first read (nothing to fall back on) waits up to `FIRST_WAIT_S`.

The app never writes: read-only connections cannot, and no write statement exists in `queries`.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import streamlit as st

from harness.errors import StoreLocked
from harness.store import DB_ENV, Store, resolve_db_path

from harness.store import queries

BUSY_WAIT_S = 3.0  # a refresh waits this long for a writer before showing the last good result
FIRST_WAIT_S = 60.0  # a first read, with nothing to fall back on, waits this long
LAST_GOOD_MAX = 512  # last good results kept (one per query and arguments), oldest dropped first

# How reads were answered in this process: "current" (the store had not changed since the last
# read), "fresh" (read from the file), "stale" (the writer held it: the last good result was shown).
READS: Counter[str] = Counter()

QUERIES: dict[str, Callable[..., pd.DataFrame]] = {
    "task_scores": queries.task_scores,
    "value_histograms": queries.value_histograms,
    "runs": queries.runs,
    "item_outcomes": queries.item_outcomes,
    "latest_results": queries.latest_results,
    "task_usage": queries.task_usage,
    "item": queries.item,
    "item_runs": queries.item_runs,
    "samples": queries.samples,
    "pivotal_curves": queries.pivotal_curves,
    "pivotal_marks": queries.pivotal_marks,
    "train_queue": queries.train_queue,
    "loops": queries.loops,
    "loop_arms": queries.loop_arms,
    "nights": queries.nights,
    "night": queries.night,
    "night_runs": queries.night_runs,
    "night_checks": queries.night_checks,
    "audit_disagreements": queries.audit_disagreements,
}

Token = tuple[int, int, int, int]


def db_path() -> Path:
    """The store the app reads: $HARNESS_DB (set by `harness leaderboard --db`), else ./harness.duckdb."""
    return resolve_db_path(os.environ.get(DB_ENV)).resolve()


def store_token(path: Path) -> Token:
    """The store's last change, without opening it: (mtime_ns, size) of the file and of its WAL."""
    parts: list[int] = []
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            st_ = p.stat()
            parts += [st_.st_mtime_ns, st_.st_size]
        except FileNotFoundError:
            parts += [0, 0]
    return tuple(parts)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Loaded:
    """A query's result and the store state it was read at. `stale_since` is set when the writer
    held the file and this is the last good result instead of a fresh one."""

    df: pd.DataFrame
    token: Token
    stale_since: float | None = None


@st.cache_data(max_entries=512, show_spinner=False)
def _fetch(path: str, token: Token, name: str, args: tuple[Any, ...], _wait_s: float) -> pd.DataFrame:
    store = Store(path, read_only=True, lock_timeout=_wait_s)
    with store.connect() as con:
        return QUERIES[name](con, *args)


@st.cache_resource
def _last_good() -> OrderedDict[tuple[Any, ...], tuple[pd.DataFrame, Token, float]]:
    """Process-wide: the last result read successfully per query (shared by every session)."""
    return OrderedDict()


_lock = threading.Lock()


def read(name: str, *args: Any, path: Path | None = None) -> Loaded:
    """Run query `name` with `args` against the store, cached on its last change (see module doc).
    Raises HarnessError when there is no store, its schema does not fit, or a first read found the
    file held for FIRST_WAIT_S."""
    path = path or db_path()
    token = store_token(path)
    key = (str(path), name, args)
    good = _last_good()
    with _lock:
        prev = good.get(key)
    if prev is not None and prev[1] == token:
        READS["current"] += 1
        return Loaded(prev[0], token)
    try:
        df = _fetch(str(path), token, name, args, BUSY_WAIT_S if prev is not None else FIRST_WAIT_S)
    except StoreLocked:
        if prev is None:
            raise
        READS["stale"] += 1
        return Loaded(prev[0], prev[1], stale_since=prev[2])
    READS["fresh"] += 1
    with _lock:
        good[key] = (df, token, time.time())
        good.move_to_end(key)
        while len(good) > LAST_GOOD_MAX:
            good.popitem(last=False)
    return Loaded(df, token)


def changed_at(path: Path | None = None) -> datetime | None:
    """When the store file last changed (local time), None when there is none."""
    path = path or db_path()
    try:
        return datetime.fromtimestamp(path.stat().st_mtime)
    except FileNotFoundError:
        return None
