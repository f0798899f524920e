"""The command line's failures fail: wrong names and stores exit 2 with close matches, commands that
read never create files, ingest checks its lines and refuses a file twice; and `harness samples`
prints every sample of a run. All through the real CLI on a real DuckDB file made by `harness ingest`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from harness.cli.app import app
from harness.errors import HarnessError
from harness.store import Store

ITEMS, SAMPLES = 5, 3


def lines(model: str, right: int) -> list[dict]:
    """`right` of the ITEMS items answered correctly by every sample (gold given, so no data needed)."""
    return [{"model": model, "task": "arith", "item_id": str(i), "sample": s, "gold": str(10 + i),
             "response": f"Let me think.\n#### {10 + i if i < right else 99}"}
            for i in range(ITEMS) for s in range(SAMPLES)]


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def invoke(*args: str, env: dict | None = None):
    return CliRunner(env=env).invoke(app, [str(a) for a in args], catch_exceptions=True)


def user_error(r, *texts: str) -> None:
    """The command stopped with a HarnessError (which `main` prints on one line, exit 2) saying `texts`."""
    assert isinstance(r.exception, HarnessError), (r.exception, r.output)
    for t in texts:
        assert t in str(r.exception), str(r.exception)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("fail")
    db = tmp / "r.duckdb"
    r = invoke("ingest", write(tmp / "gens.jsonl", lines("small-ingested", 2) + lines("large-ingested", 4)),
               "--db", db, "--json")
    assert r.exit_code == 0, r.output
    return db


def test_ingest_checks_field_types_before_storing_anything(tmp_path: Path) -> None:
    bad = lines("m", 1)
    bad[4]["sample"] = "zero"
    r = invoke("ingest", write(tmp_path / "bad.jsonl", bad), "--db", tmp_path / "new.duckdb")
    user_error(r, "bad.jsonl:5: sample must be an integer >= 0, got 'zero'")
    assert not (tmp_path / "new.duckdb").exists()  # no store, so no failed run left behind
    bad[4]["sample"], bad[0]["item_id"] = 1, True
    user_error(invoke("ingest", write(tmp_path / "bad.jsonl", bad), "--db", tmp_path / "new.duckdb"),
               ":1: item_id must be a string or an integer, got True")


def test_ingesting_a_file_twice_is_refused_unless_again(tmp_path: Path) -> None:
    src, db = write(tmp_path / "g.jsonl", lines("m", 3)), tmp_path / "r.duckdb"
    assert invoke("ingest", src, "--db", db).exit_code == 0
    user_error(invoke("ingest", src, "--db", db), "was ingested before", "--again")
    assert len(Store(db, read_only=True).runs()) == 1
    assert invoke("ingest", src, "--db", db, "--again").exit_code == 0
    assert len(Store(db, read_only=True).runs()) == 2


def test_reading_commands_never_create_a_store_or_an_output_file(tmp_path: Path, db: Path) -> None:
    typo, sft = tmp_path / "typo.duckdb", tmp_path / "sft.jsonl"
    for args in (("teach", "--model", "small-ingested"), ("export-sft", "--model", "small-ingested", "--out", sft),
                 ("compare", "small-ingested", "vs", "large-ingested"), ("runs",), ("samples", "--run", "x"),
                 ("nightly", "--check-only", "--model", "small-ingested")):
        user_error(invoke(*args, "--db", typo), "no results store")
    assert not typo.exists() and not sft.exists()
    user_error(invoke("export-sft", "--model", "smal-ingested", "--out", sft, "--db", db),
               "did you mean small-ingested")
    user_error(invoke("export-sft", "--model", "small-ingested", "--out", sft, "--db", db), "harness teach")
    assert not sft.exists()
    user_error(invoke("teach", "--model", "small-ingested", "--teacher", "large", "--db", db),
               "teacher 'large'", "did you mean large-ingested")


def test_usage_errors_exit_2_on_one_line_and_leave_nothing(tmp_path: Path, db: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "harness", "compare", "small-ingested", "vs", "large-ingestd",
                        "--db", str(db)], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and "did you mean large-ingested" in p.stderr
    assert "Traceback" not in p.stderr and list(tmp_path.iterdir()) == []
    user_error(invoke("compare", "small-ingested", "vs", "small-ingested", "--db", db), "two different models")


def test_runs_filters_and_shows_scores(db: Path) -> None:
    r = invoke("runs", "--db", db, "--model", "large-ingested", env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    assert "large-ingested" in r.stdout and "small-ingested" not in r.stdout
    assert "arith: 80.0/80.0" in r.stdout
    assert max(len(x) for x in r.stdout.splitlines()) <= 80
    rows = json.loads(invoke("runs", "--db", db, "--task", "arith", "--json").stdout)
    assert {r["model_name"] for r in rows} == {"small-ingested", "large-ingested"}
    assert json.loads(invoke("runs", "--db", db, "--task", "gsm8k", "--json").stdout) == []
    user_error(invoke("runs", "--db", db, "--model", "larg"), "did you mean large-ingested")


def test_samples_prints_every_sample_with_its_verdict(db: Path) -> None:
    (run,) = [r["run_id"] for r in Store(db, read_only=True).runs(model="small-ingested")]
    rows = [json.loads(x) for x in invoke("samples", "--run", run, "--db", db, "--json").stdout.splitlines()]
    assert len(rows) == ITEMS * SAMPLES
    assert [(r["item_id"], r["sample"]) for r in rows[:4]] == [("0", 0), ("0", 1), ("0", 2), ("1", 0)]
    assert {r["verdict"] for r in rows if r["item_id"] in ("0", "1")} == {"correct"}
    assert {(r["verdict"], r["extracted"], r["gold"]) for r in rows if r["item_id"] == "4"} == {("incorrect", "99", "14")}
    assert rows[0]["text"] == "Let me think.\n#### 10" and rows[0]["model"] == "small-ingested"
    table = invoke("samples", "--run", run, "--item", "3", "--db", db, env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    assert table.stdout.count("arith item 3 sample") == SAMPLES and "Let me think." in table.stdout
    user_error(invoke("samples", "--run", run[:-1], "--db", db), "did you mean " + run)
    user_error(invoke("samples", "--run", run, "--task", "arit", "--db", db), "did you mean arith")
    user_error(invoke("samples", "--run", run, "--item", "77", "--db", db), "no item '77'")


def test_nightly_check_only_takes_ingested_names(db: Path) -> None:
    r = invoke("nightly", "--check-only", "--model", "small-ingested", "--db", db, "--json")
    assert r.exit_code == 0, r.output
    assert [c["status"] for c in json.loads(r.stdout)] == ["no_baseline"]


def test_help_names_every_option_and_shows_flags_as_flags() -> None:
    group = typer.main.get_command(app)
    assert invoke("--version").stdout.startswith("harness ")

    def walk(cmd, path):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, cmd

    for path, cmd in walk(group, []):
        for p in cmd.params:
            assert p.name == "help" or getattr(p, "help", None), f"harness {' '.join(path)}: {p.opts} has no help"
        text = invoke(*path, "--help", env={"COLUMNS": "80"}).stdout
        assert "<bool>" not in text, path
        assert max(len(x) for x in text.splitlines()) <= 80, path
    assert "-k <int>" in invoke("run", "--help").stdout and "default: 8" in invoke("run", "--help").stdout
    assert "not the usual 8" in invoke("demo", "--help").stdout  # the demo keeps to minutes on 2 cores
