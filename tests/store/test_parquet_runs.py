"""Runs from several stores ("machines") moved as Parquet and merged into one, without duplicates."""

import json
import subprocess
import sys

from fakes import FakeBackend
from harness.tasks import get_task

from harness.cli.leaderboard import parquet_store
from harness.data import Source
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store
from harness.store.parquet import TABLES, export_runs, import_runs


def one_run(path, name, limit=6):
    store = Store(path)
    spec = ModelSpec(name, "openai", name, base_url="http://nowhere/v1")
    s = run(spec, [get_task("arith")], 2, store, Source(limit=limit), backend_factory=lambda _: FakeBackend(),
            progress=False)
    return store, s


def counts(store):
    return {t: store.query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in TABLES}


def test_two_machines_merge_into_one_store_and_twice_adds_nothing(tmp_path):
    a, ra = one_run(tmp_path / "a.duckdb", "small")
    b, rb = one_run(tmp_path / "b.duckdb", "large", limit=8)  # shares items and prompts with a
    export_runs(a, tmp_path / "out" / "machine-a")
    export_runs(b, tmp_path / "out" / "machine-b")
    merged = Store(tmp_path / "m.duckdb")
    added = import_runs(merged, [tmp_path / "out"])
    again = import_runs(merged, [tmp_path / "out" / "machine-a", tmp_path / "out"])
    c = counts(merged)
    assert sum(again.values()) == 0
    assert c["runs"] == 2 and c["generations"] == 6 * 2 + 8 * 2 and c["items"] == 8 and c["prompts"] == 8
    assert added == c
    assert merged.task_results(ra.run_id) == a.task_results(ra.run_id)
    assert merged.task_results(rb.run_id) == b.task_results(rb.run_id)
    assert [r["status"] for r in merged.runs()] == ["done", "done"]


def test_command_line_and_leaderboard_store(tmp_path):
    a, ra = one_run(tmp_path / "a.duckdb", "small")
    cmd = [sys.executable, "-m", "harness"]
    r = subprocess.run([*cmd, "export-runs", tmp_path / "x", "--db", tmp_path / "a.duckdb", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"]["scores"] == 12
    r = subprocess.run([*cmd, "import-runs", tmp_path / "x", "--db", tmp_path / "c.duckdb", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["added"]["runs"] == 1
    lb = Store(parquet_store(tmp_path / "x"), read_only=True)  # what `leaderboard --parquet` serves
    assert lb.task_results(ra.run_id) == a.task_results(ra.run_id)
