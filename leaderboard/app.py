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
from harness.leaderboard import common

st.set_page_config(page_title="harness leaderboard", page_icon=":bar_chart:", layout="wide")

# The page scripts live in views/, not pages/: Streamlit treats a pages/ folder beside the entry
# script as a legacy multipage app, and a fresh server that first serves a sub-page URL then shows its
# default sidebar of file names, in a narrow layout, to every later session.
PAGES = [
    st.Page("views/board.py", title="Leaderboard", icon=":material/leaderboard:", default=True),
    st.Page("views/size.py", title="Small vs large", icon=":material/scatter_plot:", url_path="size"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("views/items.py", title="Item explorer", icon=":material/search:", url_path="items"),
    st.Page("views/history.py", title="History", icon=":material/timeline:", url_path="history"),
    st.Page("views/nightly.py", title="Nightly", icon=":material/nightlight:", url_path="nightly"),
    st.Page("views/queue.py", title="Training queue", icon=":material/school:", url_path="queue"),
    st.Page("views/loop.py", title="Loop", icon=":material/model_training:", url_path="loop"),
]

page = st.navigation(PAGES)
common.sidebar()
try:
    page.run()
except HarnessError as exc:  # no store, a schema this harness does not know, a writer holding on
    st.warning(str(exc))
