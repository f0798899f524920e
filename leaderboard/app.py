"""The leaderboard's entry script: `streamlit run leaderboard/app.py` (or `harness leaderboard`).

Reads the store named by $HARNESS_DB (default ./harness.duckdb) read-only; see `leaderboard.data`
for how it keeps working while `harness run` writes."""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import harness.leaderboard  # noqa: F401  (installed with the project)
except ImportError:  # run from a checkout without installing: the package is beside this file
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st

from harness.errors import HarnessError
from harness.leaderboard import PAGES, common

st.set_page_config(page_title="harness leaderboard", page_icon=":bar_chart:", layout="wide")

# The page scripts live in views/, not pages/: Streamlit treats a pages/ folder beside the entry
# script as a legacy multipage app, and a fresh server that first serves a sub-page URL then shows its
# default sidebar of file names, in a narrow layout, to every later session.
page = st.navigation([st.Page(script, title=title, icon=icon, default=True) if url_path is None else
                      st.Page(script, title=title, icon=icon, url_path=url_path)
                      for script, title, icon, url_path in PAGES])
common.sidebar()
try:
    page.run()
except HarnessError as exc:  # no store, a schema this harness does not know, a writer holding on
    st.warning(str(exc))
