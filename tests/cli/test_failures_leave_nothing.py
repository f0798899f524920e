"""A command that fails on bad input exits 2 with one line naming the input and leaves no store, run
row or file it did not have before; Ctrl-C in a generating command says how to resume; the
leaderboard names every page and refuses a port in use; mistyped aliases get close matches; models
files and teach/export-sft say the real cause. Through the real CLI (subprocesses where the exit
status and stderr matter) on real DuckDB files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.data import Source
from harness.errors import BackendError, HarnessError
from harness.models import ModelSpec
from harness.pipeline.runner import run as do_run
from harness.store import Store
from harness.tasks import get_task

REPO = Path(__file__).resolve().parents[2]


def harness(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}, timeout=timeout)


def one_line_error(p: subprocess.CompletedProcess, *texts: str) -> None:
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1, p.stderr
    for t in texts:
        assert t in p.stderr, p.stderr


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=True)


def write_lines(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_model_folder_that_does_not_exist_leaves_no_store(tmp_path: Path) -> None:
    p = harness("run", "--model", "hf:/no/such/folder", "-t", "arith", "--limit", "2", cwd=tmp_path)
    one_line_error(p, "hf:/no/such/folder", "no such folder")
    assert "Repo id" not in p.stderr and list(tmp_path.iterdir()) == []


def test_a_model_that_fails_to_load_leaves_no_store_and_no_run_row(tmp_path: Path) -> None:
    # A hub id offline: the backend itself fails to load it (no folder to check beforehand).
    p = harness("run", "--model", "hf:nobody-here/no-model", "-t", "arith", "--limit", "2", cwd=tmp_path)
    one_line_error(p, "could not load model 'nobody-here/no-model'")
    assert list(tmp_path.iterdir()) == []
    # In a store that exists, the failed attempt adds no run row and no model row.
    store = Store(tmp_path / "r.duckdb")
    spec = ModelSpec(name="good", backend="hf", model="x")
    from fakes import FakeBackend

    do_run(spec, [get_task("arith")], 1, store, Source(limit=2), backend_factory=lambda s: FakeBackend(), progress=False)

    def broken(spec):
        raise BackendError("could not load model")

    with pytest.raises(BackendError):
        do_run(ModelSpec(name="broken", backend="hf", model="y"), [get_task("arith")], 1, store, Source(limit=2),
               backend_factory=broken, progress=False)
    assert [r["model_name"] for r in store.runs()] == ["good"]
    assert [r["name"] for r in store.query("SELECT name FROM models")] == ["good"]


def test_a_backend_dying_mid_run_keeps_its_failed_run(tmp_path: Path) -> None:
    """Only a run that stored nothing disappears: one that stored samples stays, marked failed."""
    from fakes import FakeBackend

    store = Store(tmp_path / "r.duckdb")
    with pytest.raises(RuntimeError):
        do_run(ModelSpec(name="m", backend="hf", model="x"), [get_task("arith")], 4, store, Source(limit=10),
               backend_factory=lambda s: FakeBackend(batch_size=8, die_after_batches=1), progress=False)
    assert [r["status"] for r in store.runs()] == ["failed"]


def test_ingest_of_an_item_the_task_lacks_leaves_no_store(tmp_path: Path) -> None:
    ok = {"model": "m", "task": "arith", "item_id": "0", "response": "#### 3"}
    bad = write_lines(tmp_path / "g.jsonl", [ok, {**ok, "item_id": "no-such-item"}])
    p = harness("ingest", bad, "--db", tmp_path / "new.duckdb", cwd=tmp_path)
    one_line_error(p, "g.jsonl:2", "no item 'no-such-item'")
    assert not (tmp_path / "new.duckdb").exists()
    # Into a store that has a run already: no second run row, failed or otherwise.
    gold = write_lines(tmp_path / "ok.jsonl", [{**ok, "gold": "3"}])
    assert invoke("ingest", gold, "--db", tmp_path / "r.duckdb").exit_code == 0
    r = invoke("ingest", bad, "--db", tmp_path / "r.duckdb")
    assert isinstance(r.exception, HarnessError), r.output
    assert len(Store(tmp_path / "r.duckdb", read_only=True).runs()) == 1


@pytest.mark.parametrize("line, column", [
    ('{"model": "m", "task": "arith"', 31),      # cut off at its end: the error is there, not at column 1
    ('{"model": "m",, "task": "arith"}', 15),
])
def test_a_malformed_json_line_is_reported_at_its_column(tmp_path: Path, line: str, column: int) -> None:
    src = tmp_path / "g.jsonl"
    src.write_text('{"model": "m", "task": "arith", "item_id": "0", "response": "1", "gold": "1"}\n' + line + "\n")
    p = harness("ingest", src, "--db", tmp_path / "new.duckdb", cwd=tmp_path)
    one_line_error(p, "g.jsonl:2: not valid JSON", f"at column {column})")
    assert not (tmp_path / "new.duckdb").exists()


def test_ctrl_c_names_the_command_that_resumes() -> None:
    from harness.cli.app import interrupted_message

    says = interrupted_message(["run", "--model", "phi", "-t", "gsm8k"])
    assert "run `harness run --model phi -t gsm8k` again to resume" in says
    assert interrupted_message(["compare", "a", "vs", "b"]) == "interrupted"


@pytest.mark.slow
def test_ctrl_c_in_harness_run_says_how_to_resume(tmp_path: Path) -> None:
    model = REPO / "harness" / "demo_models" / "small"
    cmd = [sys.executable, "-m", "harness", "run", "--model", f"hf:{model}", "-t", "wordmath", "-k", "8",
           "--db", str(tmp_path / "r.duckdb")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _has_generations(tmp_path / "r.duckdb"):
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "again to resume" in stderr and "harness run --model" in stderr
    assert [r["status"] for r in Store(tmp_path / "r.duckdb", read_only=True).runs()] == ["interrupted"]


def _has_generations(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        return Store(db, read_only=True, lock_timeout=0).query("SELECT count(*) AS n FROM generations")[0]["n"] > 0
    except HarnessError:
        return False


def test_leaderboard_help_names_every_page() -> None:
    from harness.leaderboard import PAGES

    text = invoke("leaderboard", "--help").stdout.replace("\n", " ")
    text = " ".join(text.split())
    assert [title for _, title, _, _ in PAGES if title not in text] == []
    views = {p.name for p in (REPO / "leaderboard" / "views").glob("*.py")}
    assert {Path(script).name for script, _, _, _ in PAGES} == views  # every page script is listed


def test_leaderboard_on_a_port_in_use_exits_2_on_one_line(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        p = harness("leaderboard", "--port", port, "--db", tmp_path / "r.duckdb", cwd=tmp_path, timeout=60)
    one_line_error(p, f"port {port}", "--port")
    assert "http://" not in p.stderr


def test_a_mistyped_alias_gets_close_matches(tmp_path: Path) -> None:
    models = tmp_path / "models.toml"
    models.write_text('[models.demo-small]\nbackend = "hf"\nmodel = "a/b"\n'
                      '[models.demo-large]\nbackend = "hf"\nmodel = "a/c"\n')
    p = harness("run", "--model", "demo-smal", "-t", "arith", "--models", models, cwd=tmp_path)
    one_line_error(p, "unknown model 'demo-smal'; did you mean demo-small")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["models.toml"]


@pytest.mark.parametrize("body, says", [
    ('params_b = "big"', "params_b must be a positive number"),
    ("sampling = 3", "sampling must be a table"),
    ('options = "x"', "options must be a table"),
    ('[models.m.sampling]\ntemperature = "hot"', "sampling.temperature must be a number"),
    ('model = "./gone"', "no such folder"),
])
def test_models_file_errors_name_the_model(tmp_path: Path, body: str, says: str) -> None:
    models = tmp_path / "models.toml"
    head = '[models.m]\nbackend = "hf"\n' + ("" if body.startswith("model =") else 'model = "a/b"\n')
    models.write_text(head + body + "\n")
    p = harness("run", "--model", "m", "-t", "arith", "--models", models, cwd=tmp_path)
    one_line_error(p, "[models.m]", says)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["models.toml"]


def _answers(model: str, task: str, right: int) -> list[dict]:
    return [{"model": model, "task": task, "item_id": str(i), "sample": s, "gold": str(10 + i),
             "response": f"#### {10 + i if (i < right or (i == right and s == 0)) else 99}"}
            for i in range(5) for s in range(3)]


def test_teach_says_to_pass_t_and_export_says_everything_was_exported(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    rows = _answers("small", "arith", 1) + _answers("small", "gsm8k", 1) + _answers("large", "arith", 5)
    assert invoke("ingest", write_lines(tmp_path / "g.jsonl", rows), "--db", db).exit_code == 0
    r = invoke("teach", "--model", "small", "--teacher", "large", "--db", db)
    assert isinstance(r.exception, HarnessError), r.output
    assert "no finished run of task 'gsm8k'" in str(r.exception) and "pass -t arith" in str(r.exception)
    assert Store(db, read_only=True).queue("small") == []  # nothing queued for arith either
    assert invoke("teach", "--model", "small", "--teacher", "large", "-t", "arith", "--db", db).exit_code == 0
    out = tmp_path / "sft.jsonl"
    assert invoke("export-sft", "--model", "small", "--out", out, "--db", db).exit_code == 0
    out.unlink()
    r = invoke("export-sft", "--model", "small", "--out", out, "--db", db)
    assert isinstance(r.exception, HarnessError), r.output
    assert "were exported before" in str(r.exception) and "--all" in str(r.exception)
    assert "harness teach --model small" not in str(r.exception) and not out.exists()


def test_progress_off_a_terminal_is_one_line_per_stage() -> None:
    import io

    from rich.console import Console

    from harness.pipeline.runner import _Progress

    buf = io.StringIO()
    with _Progress(True, Console(file=buf, force_terminal=False, width=80)) as bars:
        gen = bars.add("arith: generating", 10)
        for _ in range(10):
            gen(1)
        score = bars.add("arith: scoring", 4)
        score(2)
    lines = buf.getvalue().splitlines()
    assert [x.split(" in ")[0] for x in lines] == ["arith: generating: done, 10/10", "arith: scoring: stopped at 2/4"]
    assert "━" not in buf.getvalue() and "\r" not in buf.getvalue()


@pytest.mark.slow
def test_harness_run_into_a_log_file_writes_lines_not_bars(tmp_path: Path) -> None:
    model = REPO / "harness" / "demo_models" / "small"
    p = harness("run", "--model", f"hf:{model}", "-t", "wordmath", "--limit", "3", "-k", "2", "--db", tmp_path / "r.duckdb",
                cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert p.returncode == 0, p.stderr
    stages = [x for x in p.stderr.splitlines() if x.startswith("wordmath: ")]
    assert [x.split(" in ")[0] for x in stages] == ["wordmath: generating: done, 6/6", "wordmath: scoring: done, 3/3"]
    assert "━" not in p.stderr and "\r" not in p.stderr
