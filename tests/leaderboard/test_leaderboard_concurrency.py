"""The leaderboard keeps working while a writer holds the store between its short transactions.

DuckDB refuses every other process while one writes (FACTS.md); the app's reader retries the lock
and falls back to its last good read (leaderboard/data.py). Here a writer process runs the real run
loop back to back while every page is rendered again and again: no exception or error may reach
the page, the writer must finish cleanly, and the pages must see the writer's new runs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from harness.store import Store
from harness.leaderboard import APP_PATH, data
from leaderboard_seed import seed_store

from paths import TESTS as HERE
PAGES = ["board", "size", "compare", "items", "history"]


def render_all(at: AppTest) -> None:
    for page in PAGES:
        # a user who picks another page in the navigation leaves the last page's URL (its ?model=,
        # ?item=) behind; AppTest keeps query parameters across switch_page, so drop them here
        at.query_params.clear()
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert at.dataframe, page


@pytest.mark.slow
def test_pages_render_while_a_run_writes(tmp_path, monkeypatch):
    db = seed_store(tmp_path / "busy.duckdb")
    monkeypatch.setenv("HARNESS_DB", str(db))
    at = AppTest.from_file(str(APP_PATH), default_timeout=120).run()
    # The writer runs 10 s, and after that until the pages have made 2 rounds and seen its runs grow
    # (at most 120 s): 10 s alone gave a slow machine one round of pages, and the test failed for that.
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, str(HERE / "leaderboard_writer.py"), str(db), "10", str(stop), "120"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    data.READS.clear()
    rounds, runs_seen = 0, set()
    try:
        while writer.poll() is None:
            render_all(at)  # ends on History, whose second table lists the runs
            runs_seen.add(len(at.dataframe[1].value))
            rounds += 1
            if rounds >= 2 and len(runs_seen) >= 2:
                stop.touch()
                writer.wait(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
        out, err = writer.communicate(timeout=60)
    print(f"\n{rounds} rounds of {len(PAGES)} pages; runs seen {sorted(runs_seen)}; reads {dict(data.READS)}")
    assert writer.returncode == 0, err
    written = int(out.strip())
    assert written >= 3, "the writer barely ran"
    assert rounds >= 2
    render_all(at)  # once the writer is done, the pages show everything it wrote
    final = len(at.dataframe[1].value)
    assert final == 3 + written == len(Store(db, read_only=True).runs())
    assert len(runs_seen) >= 2, "pages never saw the writer's new runs while it ran"
    assert data.READS["fresh"] > 0
