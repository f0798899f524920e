"""The leaderboard's reading side without a browser: the pure page math (latest result, intervals,
Pareto frontier, vote distribution), the lock fallback of `leaderboard.data`, the app never
writing, and the `harness leaderboard` command line."""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from harness.analysis import stats
from harness.cli.leaderboard import streamlit_command, streamlit_env
from harness.errors import StoreLocked
from harness.leaderboard import APP_PATH, data, metrics
from leaderboard_seed import seed_store


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    return seed_store(tmp_path_factory.mktemp("lbdata") / "seeded.duckdb")


def test_latest_takes_the_rows_the_store_ranked_latest():
    # The ranking itself is SQL (`queries.RANKED_RUNS`, tested on a real file in tests/analysis/test_results.py)
    scores = pd.DataFrame({
        "model": ["phi", "phi", "phi", "phi", "70b"], "task": ["a", "a", "b", "a", "a"],
        "run_id": ["r1", "r2", "r1", "r4", "r3"], "recency": [1, 0, 0, None, 0]})
    got = metrics.latest(scores)  # r4 is still running: unranked
    assert got[["model", "task", "run_id"]].values.tolist() == [["70b", "a", "r3"], ["phi", "a", "r2"], ["phi", "b", "r1"]]


@pytest.mark.parametrize("sizes, scores, frontier", [
    ([1, 10, 100], [0.2, 0.5, 0.9], [True, True, True]),       # each larger one is better
    ([1, 10, 100], [0.5, 0.4, 0.9], [True, False, True]),      # the middle one is beaten by the smallest
    ([1, 10, 10], [0.5, 0.7, 0.7], [True, True, True]),        # ties dominate nobody
    ([1, 10, float("nan")], [0.5, 0.4, 0.99], [True, False, False]),  # no size: never on the frontier
])
def test_pareto_frontier(sizes, scores, frontier):
    pts = pd.DataFrame({"params_b": sizes, "score": scores})
    assert metrics.pareto(pts).tolist() == frontier


def test_intervals_come_from_harness_stats():
    row = {"n_items": 10, "maj_at_k": 0.7, "pass_at_1": 0.725}
    ci = metrics.interval(row, "maj@k", None)
    w = stats.wilson_interval(7, 10)
    assert (ci.low, ci.high) == (w.low, w.high)
    hist = pd.DataFrame({"value": [0.25, 0.75, 1.0], "items": [3, 2, 5]})
    ci = metrics.interval(row, "pass@1", hist)
    ref = stats.mean_interval([0.25] * 3 + [0.75] * 2 + [1.0] * 5, n_resamples=metrics.BOARD_RESAMPLES)
    assert (ci.low, ci.high) == (ref.low, ref.high)
    assert math.isnan(metrics.interval(row, "pass@1", None).low)
    # maj@k estimated from n > k samples is a fraction per item: bootstrapped, not Wilson
    frac = pd.DataFrame({"value": [0.0, 0.5, 1.0], "items": [3, 4, 3]})
    ci = metrics.interval({"n_items": 10, "maj_at_k": 0.5}, "maj@k", frac)
    ref = stats.mean_interval([0.0] * 3 + [0.5] * 4 + [1.0] * 3, n_resamples=metrics.BOARD_RESAMPLES)
    assert (ci.low, ci.high) == (ref.low, ref.high)


def test_vote_distribution_keeps_unanswered_samples_visible():
    samples = pd.DataFrame({
        "sample_index": [0, 1, 2, 3, 4], "cls": [1, 0, 1, None, None], "canonical": ["5", "4", "5", None, None],
        "extracted": ["5", "4", "5.0", None, None],
        "verdict": ["correct", "incorrect", "correct", "unparseable", "timeout"]})
    dist = metrics.vote_distribution(samples)
    assert dist[["answer", "votes", "verdict"]].values.tolist() == [
        ["5", 2, "correct"], ["4", 1, "incorrect"], ["(unparseable)", 1, "unparseable"], ["(timeout)", 1, "timeout"]]


def test_item_ids_sort_naturally():
    assert metrics.sort_item_ids(["10", "2", "HumanEval/10", "HumanEval/2", "1"]) == [
        "1", "2", "10", "HumanEval/2", "HumanEval/10"]


HOLDER = textwrap.dedent("""
    import duckdb, sys, time
    con = duckdb.connect(sys.argv[1])
    print("held", flush=True)
    time.sleep(60)
""")


def hold(db: Path) -> subprocess.Popen:
    """Another process holding the store for writing, as `harness run` does during a transaction."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_held_store_serves_the_last_good_read_and_says_so(tmp_path, monkeypatch):
    db = seed_store(tmp_path / "held.duckdb")
    monkeypatch.setenv("HARNESS_DB", str(db))
    monkeypatch.setattr(data, "BUSY_WAIT_S", 0.3)
    at = AppTest.from_file(str(APP_PATH), default_timeout=60).run()
    before = at.dataframe[0].value
    fresh = data.read("task_scores", path=db)
    assert fresh.stale_since is None
    holder = hold(db)
    try:
        data.os.utime(db)  # the store changed: the cached read no longer counts as current
        stale = data.read("task_scores", path=db)
        assert stale.stale_since is not None and stale.df.equals(fresh.df)
        at.run()
        assert not at.exception and not at.error
        pd.testing.assert_frame_equal(at.dataframe[0].value, before)
        assert any("A run is writing to the store" in c.value for c in at.caption)
    finally:
        holder.kill()
        holder.wait()
    assert data.read("task_scores", path=db).stale_since is None  # fresh again once the writer let go


def test_a_first_read_of_a_held_store_says_who_holds_it(tmp_path, monkeypatch):
    db = seed_store(tmp_path / "first.duckdb")
    monkeypatch.setenv("HARNESS_DB", str(db))
    monkeypatch.setattr(data, "FIRST_WAIT_S", 0.5)
    holder = hold(db)
    try:
        with pytest.raises(StoreLocked):
            data.read("runs", path=db)
        at = AppTest.from_file(str(APP_PATH), default_timeout=60).run()
        assert not at.exception
        assert "is held by" in at.warning[0].value
    finally:
        holder.kill()
        holder.wait()


def digest(path: Path) -> tuple[int, int, str]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size, hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_app_never_writes_the_store(seeded, monkeypatch):
    monkeypatch.setenv("HARNESS_DB", str(seeded))
    before = digest(seeded)
    at = AppTest.from_file(str(APP_PATH), default_timeout=60).run()
    for page in ("board", "size", "compare", "items", "history"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception
    assert digest(seeded) == before
    assert not Path(str(seeded) + ".wal").exists()


def test_command_binds_loopback_headless_without_telemetry(tmp_path):
    cmd = streamlit_command(APP_PATH, "127.0.0.1", 8765)
    opts = dict(zip(cmd[5::2], cmd[6::2]))
    assert cmd[1:5] == ["-m", "streamlit", "run", str(APP_PATH)]
    assert opts["--server.address"] == "127.0.0.1" and opts["--server.port"] == "8765"
    assert opts["--server.headless"] == "true" and opts["--browser.gatherUsageStats"] == "false"
    env = streamlit_env(tmp_path / "x.duckdb")
    assert env["HARNESS_DB"] == str(tmp_path / "x.duckdb") and env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"


def test_command_help_and_bad_port():
    from typer.testing import CliRunner

    from harness.cli.app import app

    r = CliRunner().invoke(app, ["leaderboard", "--help"])
    assert r.exit_code == 0 and "--host" in r.output and "127.0.0.1" in r.output
    r = CliRunner().invoke(app, ["leaderboard", "--port", "0"])
    assert r.exit_code != 0 and "--port" in str(r.exception)
