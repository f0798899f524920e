"""Generations made elsewhere, stored as runs and graded by the task's grader."""

import json

import pytest

from harness.errors import DataError, UnknownTask
from harness.pipeline.ingest import ingest_file
from harness.store import Store
from harness.tasks import get_task
from harness.data import Source


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_ingest_two_models_of_known_accuracy(tmp_path):
    items = get_task("arith").load(Source(limit=20))
    rows = []
    for j, it in enumerate(items):
        for s in range(3):
            # model A right on the first 12 items (all samples); B right on items 5..19 in 2 of 3 samples
            a = it.gold if j < 12 else "-1"
            b = it.gold if (j >= 5 and s < 2) else "-7"
            rows.append({"model": "A", "task": "arith", "item_id": it.id, "sample": s, "response": f"#### {a}"})
            rows.append({"model": "B", "task": "arith", "item_id": it.id, "sample": s,
                         "response": f"The answer is {b}", "prompt": it.fields["question"]})
    store = Store(tmp_path / "r.duckdb")
    runs = {r.model: r for r in ingest_file(store, write(tmp_path / "in.jsonl", rows), params_b=14.0)}
    a, b = runs["A"].tasks[0], runs["B"].tasks[0]
    assert (a.n_items, a.k, a.maj_at_k, a.pass_at_1) == (20, 3, pytest.approx(12 / 20), pytest.approx(12 / 20))
    assert b.maj_at_k == pytest.approx(15 / 20) and b.pass_at_1 == pytest.approx(30 / 60)
    assert b.pass_at_k == pytest.approx(15 / 20)
    listed = {r["model_name"]: r for r in store.runs()}
    assert listed["A"]["source"] == "ingest" and listed["A"]["status"] == "done"
    assert store.query("SELECT params_b FROM models WHERE name = 'A'")[0]["params_b"] == 14.0
    # the same file again is refused, unless asked for; then the generations are not stored twice
    with pytest.raises(DataError, match="ingested before"):
        ingest_file(store, tmp_path / "in.jsonl")
    assert len(store.runs()) == 2
    ingest_file(store, tmp_path / "in.jsonl", again=True)
    assert len(store.runs()) == 4
    assert store.query("SELECT count(*) AS n FROM generations")[0]["n"] == 120


def test_gold_is_looked_up_from_the_task_when_absent(tmp_path):
    it = get_task("arith").load(Source(limit=1))[0]
    f = write(tmp_path / "in.jsonl", [{"model": "m", "task": "arith", "item_id": it.id, "response": it.gold}])
    (run,) = ingest_file(Store(tmp_path / "r.duckdb"), f)
    assert run.tasks[0].maj_at_k == 1.0


@pytest.mark.parametrize("rows,error,match", [
    ([{"model": "m", "task": "arith", "item_id": "0"}], DataError, r"in.jsonl:1: missing field\(s\) response"),
    ([{"model": "m", "task": "nope", "item_id": "0", "response": "1"}], UnknownTask, "unknown task 'nope'"),
    ([{"model": "m", "task": "arith", "item_id": "999", "response": "1"}], DataError, "has no item '999'"),
    ([{"model": "m", "task": "arith", "item_id": "0", "response": "1", "gold": "1"}] * 2, DataError,
     "sample 0 already given on line 1"),
])
def test_bad_input_is_named(tmp_path, rows, error, match):
    with pytest.raises(error, match=match):
        ingest_file(Store(tmp_path / "r.duckdb"), write(tmp_path / "in.jsonl", rows))


def test_ingest_through_the_cli(tmp_path):
    import subprocess
    import sys
    f = write(tmp_path / "in.jsonl", [{"model": "ext", "task": "arith", "item_id": "0", "response": "#### 0", "gold": "0"}])
    r = subprocess.run([sys.executable, "-m", "harness", "ingest", str(f), "--db", str(tmp_path / "r.duckdb"),
                        "--params-b", "70", "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out[0]["model"] == "ext" and out[0]["tasks"][0]["maj_at_k"] == 1.0


def test_choice_lines_without_gold_are_read_in_the_dataset_order(tmp_path, shared_data):
    rows = [json.loads(l) for l in (shared_data / "mmlu_science_test.jsonl").read_text().splitlines()[:8]]
    lines = [{"model": "ext", "task": "mmlu_science", "item_id": r["id"],
              "response": f"Answer: {'ABCD'[r['answer_index']]}"} for r in rows]
    (run,) = ingest_file(Store(tmp_path / "r.duckdb"), write(tmp_path / "in.jsonl", lines), source=Source(shared_data))
    assert run.tasks[0].maj_at_k == 1.0 and run.tasks[0].n_items == 8


def test_ingest_under_named_conventions_records_them(tmp_path):
    from typer.testing import CliRunner

    from harness.cli.app import app

    f = write(tmp_path / "in.jsonl", [
        {"model": "ext", "task": "arith", "item_id": "0", "response": "\\boxed{1200\\%}", "gold": "12"},
        {"model": "ext", "task": "arith", "item_id": "1", "response": "\\boxed{7}", "gold": "7"}])
    db = tmp_path / "r.duckdb"
    strict = ingest_file(Store(db), f)
    assert (strict[0].tasks[0].conventions, strict[0].tasks[0].pass_at_1) == ("strict", 0.5)
    r = CliRunner().invoke(app, ["ingest", str(f), "--db", str(db), "--again", "--conventions", "lenient", "--json"])
    assert r.exit_code == 0, r.output
    (run,) = json.loads(r.stdout)
    assert (run["tasks"][0]["conventions"], run["tasks"][0]["pass_at_1"]) == ("lenient", 1.0)
    assert Store(db).task_results(run["run_id"])[0]["conventions"] == "lenient"
