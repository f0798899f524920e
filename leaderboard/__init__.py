"""The leaderboard: a read-only Streamlit app over the results store (`harness leaderboard`).

Layout
- `queries`: the fixed, parameterized read-only SQL the app runs (one function per question).
- `metrics`: pure pandas/numpy over query results: latest result per model and task, intervals,
  Pareto frontier, voting gain, comparison inputs. No Streamlit here, so it is unit-testable.
- `data`: how the app reads while `harness run` writes: short read-only connections retried on
  DuckDB's lock error, results cached on the store file's last change, and the last good result
  served (with a note) when a writer holds the file longer than a page should wait.
- `charts`: Altair charts. `app.py` and `views/*.py`: the Streamlit scripts.
"""

from __future__ import annotations

from pathlib import Path

APP_PATH = Path(__file__).resolve().with_name("app.py")

# The app's pages, in the sidebar's order: (script under views/, title, icon, URL path; None for the
# default page). `app.py` builds its navigation from this and `harness leaderboard --help` names them.
PAGES: tuple[tuple[str, str, str, str | None], ...] = (
    ("views/board.py", "Leaderboard", ":material/leaderboard:", None),
    ("views/size.py", "Small vs large", ":material/scatter_plot:", "size"),
    ("views/compare.py", "Compare", ":material/compare_arrows:", "compare"),
    ("views/items.py", "Item explorer", ":material/search:", "items"),
    ("views/history.py", "History", ":material/timeline:", "history"),
    ("views/nightly.py", "Nightly", ":material/nightlight:", "nightly"),
    ("views/queue.py", "Training queue", ":material/school:", "queue"),
    ("views/loop.py", "Loop", ":material/model_training:", "loop"),
)
