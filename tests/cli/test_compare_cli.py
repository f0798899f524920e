"""`harness compare A vs B` through the CLI on a real DuckDB file.

Two models of known accuracy are written into the store with its public API, as an ingest would
write them: A solves exactly 60% of 500 items, B 70%, with 40 items only A solves and 90 only B
solves. All three formats must reproduce the accuracies, the difference and McNemar's p-value
(scipy's binomial test as reference). A second test drives the real run loop with a fake backend.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from scipy import stats as sps
from typer.testing import CliRunner

from harness.cli.app import app
from harness.errors import HarnessError
from harness.store import Store

from factories import item_result, start_run, task_result

N, BOTH, A_ONLY, B_ONLY = 500, 260, 40, 90
P_VALUE = sps.binomtest(A_ONLY, A_ONLY + B_ONLY, 0.5).pvalue
WIDE = {"COLUMNS": "220"}


def put_model_results(db: Path, name: str, task: str, rows: list[tuple[str, bool, str, float, float]],
                      k: int = 4, params_b: float | None = None, gold: str = "42") -> str:
    """Store one finished run of `name` on `task`; rows are (item id, maj correct, maj answer,
    vote share, pass@1). Returns the run id."""
    store = Store(db)
    run_id = start_run(store, name, k=k, tasks=[task], params_b=params_b)
    items = [item_result(run_id, task, r[0], correct=r[1], answer=r[2], share=r[3], pass_at_1=r[4], k=k, gold=gold)
             for r in rows]
    store.put_results([], items, task_result(items, k=k))
    store.finish_run(run_id, "done")
    return run_id


def known_rows(seed: int = 0) -> tuple[list, list]:
    cells = ["both"] * BOTH + ["a"] * A_ONLY + ["b"] * B_ONLY + ["neither"] * (N - BOTH - A_ONLY - B_ONLY)
    ids = [str(i) for i in range(N)]
    random.Random(seed).shuffle(ids)
    a_rows, b_rows = [], []
    for item_id, cell in zip(ids, cells):
        ca, cb = cell in ("both", "a"), cell in ("both", "b")
        a_rows.append((item_id, ca, "42" if ca else "41", 0.75 if ca else 0.5, 0.75 if ca else 0.25))
        b_rows.append((item_id, cb, "42" if cb else "[7]", 1.0 if cb else 0.5, 1.0 if cb else 0.0))
    return a_rows, b_rows


@pytest.fixture(scope="module")
def known_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("cmp") / "results.duckdb"
    a_rows, b_rows = known_rows()
    put_model_results(db, "small", "math500", a_rows, params_b=14.0)
    put_model_results(db, "large", "math500", b_rows, params_b=70.0)
    return db


def invoke(*args: str, env: dict | None = None):
    return CliRunner(env=env).invoke(app, ["compare", *args], catch_exceptions=True)


def test_json_reproduces_accuracies_difference_and_p_value(known_db: Path) -> None:
    r = invoke("small", "vs", "large", "--db", str(known_db), "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    (t,) = doc["tasks"]
    assert (t["task"], t["n_items"]) == ("math500", N)
    assert t["a"]["score"] == 0.6 and t["b"]["score"] == 0.7
    assert t["diff"] == pytest.approx(-0.1)
    assert t["diff_ci_low"] < -0.1 < t["diff_ci_high"] < 0
    assert t["p_value"] == pytest.approx(P_VALUE, rel=1e-12)
    assert (t["a_only"], t["b_only"]) == (A_ONLY, B_ONLY)
    assert doc["n_resamples"] == 10_000 and doc["seed"] == 0
    assert doc["models"]["a"]["params"] == 14e9 and doc["size_efficiency"]["verdict"] == "larger_better"
    assert doc["run_commands"] == [] and doc["skipped"] == []


def test_markdown_and_table_show_the_same_numbers(known_db: Path) -> None:
    md = invoke("small", "vs", "large", "--db", str(known_db), "--format", "markdown")
    assert md.exit_code == 0, md.output
    assert "| math500 | 500 | 60.0 [55.6, 64.2] | 70.0 [65.8, 73.9] | -10.0 [" in md.stdout
    assert "| 1.4e-05 | 40 | 90 |" in md.stdout
    table = invoke("small", "vs", "large", "--db", str(known_db), env=WIDE)
    assert table.exit_code == 0, table.output
    for text in ("60.0 [55.6, 64.2]", "70.0 [65.8, 73.9]", "1.4e-05", "McNemar exact", "10,000 resamples",
                 "small (14B) vs large (70B, 5x larger)"):
        assert text in table.stdout, text


def test_items_lists_the_differing_items(known_db: Path) -> None:
    r = invoke("small", "vs", "large", "--db", str(known_db), "-f", "json", "--items")
    items = json.loads(r.stdout)["items"]
    assert len(items) == A_ONLY + B_ONLY
    # Both kinds have a torn loser (share 0.5); only-B items have the surer winner (1.0 vs 0.75).
    assert {i["winner"] for i in items[:B_ONLY]} == {"b"}
    md = invoke("small", "vs", "large", "--db", str(known_db), "-f", "markdown", "--items", "--item-limit", "5")
    assert "### Items that differ (130)" in md.stdout
    assert len(re.findall(r"^\| math500 \| \d+ \| (small|large) \|", md.stdout, re.M)) == 5
    assert "| 41 (50.0%) | 42 (100.0%) | 42 |" in md.stdout


def test_pass_at_1_metric(known_db: Path) -> None:
    doc = json.loads(invoke("small", "large", "--db", str(known_db), "-f", "json", "--metric", "pass@1").stdout)
    t = doc["tasks"][0]
    assert t["a"]["score"] == pytest.approx((300 * 0.75 + 200 * 0.25) / N)
    assert t["b"]["score"] == pytest.approx(0.7)
    assert t["p_method"] == "sign-flip-permutation"


def test_missing_task_prints_the_run_command_and_drops_are_counted(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    a_rows, b_rows = known_rows()
    put_model_results(db, "small", "math500", a_rows + [("extra", True, "42", 1.0, 1.0)])
    put_model_results(db, "large", "math500", b_rows, k=8)
    put_model_results(db, "large", "gsm8k", [(str(i), True, "1", 1.0, 1.0) for i in range(30)], k=8)
    models = tmp_path / "aliases.toml"  # not ./models.toml, which would be read without --models
    models.write_text('[models.small]\nbackend = "hf"\nmodel = "some/small"\n', encoding="utf-8")
    r = invoke("small", "vs", "large", "--db", str(db), "--task", "math500,gsm8k", "--models", str(models), env=WIDE)
    assert r.exit_code == 0, r.output
    assert "gsm8k: no results for small" in r.stdout
    command = f"harness run --model small --task gsm8k -k 8 --limit 30 --db {db} --models {models}"
    assert command in r.stderr
    assert "k=4, large k=8" in r.stderr  # unequal budgets are pointed out
    doc = json.loads(invoke("small", "vs", "large", "--db", str(db), "-t", "math500", "-t", "gsm8k", "-f", "json",
                            "--models", str(models)).stdout)
    assert doc["tasks"][0]["dropped_a"] == 1 and doc["tasks"][0]["n_items"] == N
    assert doc["run_commands"] == [command]
    # Without the models file `small` is only an ingested name: no `harness run` that cannot work.
    r = invoke("small", "vs", "large", "--db", str(db), "--task", "math500,gsm8k", env=WIDE)
    assert r.exit_code == 0 and "harness run" not in r.stderr and "harness ingest" in r.stderr


def test_run_flag_runs_the_missing_task_then_compares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "r.duckdb"
    models = tmp_path / "models.toml"
    models.write_text('[models.small]\nbackend = "hf"\nmodel = "some/small"\nparams_b = 14\n', encoding="utf-8")
    put_model_results(db, "large", "arith", [(str(i), i % 2 == 0, "1", 1.0, 1.0) for i in range(20)], k=3)
    calls = []

    def fake_run(spec, tasks, k, store, source, **kw):
        calls.append((spec.name, [t.name for t in tasks], k, source.limit))
        put_model_results(store.path, spec.name, tasks[0].name, [(str(i), True, "1", 1.0, 1.0) for i in range(20)], k=k)

    monkeypatch.setattr("harness.pipeline.runner.run", fake_run)
    r = invoke("small", "vs", "large", "--db", str(db), "--models", str(models), "--run", "-f", "json")
    assert r.exit_code == 0, r.output
    assert calls == [("small", ["arith"], 3, 20)]
    t = json.loads(r.stdout)["tasks"][0]
    assert (t["a"]["score"], t["b"]["score"], t["a_only"], t["b_only"]) == (1.0, 0.5, 10, 0)
    assert json.loads(r.stdout)["models"]["a"]["params"] == 14e9  # from the models file


def test_errors_are_user_errors(known_db: Path, tmp_path: Path) -> None:
    r = invoke("nobody", "vs", "noone", "--db", str(known_db))
    assert isinstance(r.exception, HarnessError) and "models with results: large, small" in str(r.exception)
    r = invoke("small", "large", "--db", str(known_db), "--metric", "acc")
    assert isinstance(r.exception, HarnessError) and "unknown metric" in str(r.exception)
    r = invoke("small", "large", "--db", str(known_db), "--format", "html")
    assert isinstance(r.exception, HarnessError) and "unknown format" in str(r.exception)
    r = invoke("small", "large", "big", "--db", str(known_db))
    assert isinstance(r.exception, HarnessError) and "harness compare A vs B" in str(r.exception)
    r = invoke("small", "vs", "large", "--db", str(tmp_path / "absent.duckdb"))
    assert isinstance(r.exception, HarnessError) and "no results store" in str(r.exception)
    assert not (tmp_path / "absent.duckdb").exists()
    r = invoke("small", "vs", "small", "--db", str(known_db))
    assert isinstance(r.exception, HarnessError) and "two different models" in str(r.exception)
    r = invoke("small", "vs", "lareg", "--db", str(known_db))
    assert isinstance(r.exception, HarnessError) and "unknown model 'lareg'" in str(r.exception)
    assert "did you mean large?" in str(r.exception)
    r = invoke("small", "vs", "large", "--db", str(known_db), "-t", "math50")
    assert isinstance(r.exception, HarnessError) and "did you mean math500?" in str(r.exception)


def test_real_run_loop_results_compare(tmp_path: Path) -> None:
    """Two fake-backend models through the real run loop, grader and store; the comparison's
    scores equal the runner's own task summaries, and its counts the per-item outcomes."""
    from fakes import FakeBackend

    from harness.data import Source
    from harness.models import ModelSpec
    from harness.pipeline.runner import run
    from harness.tasks import get_task

    def solver(skill: int):
        def answer(prompt: str, rng: random.Random) -> str:
            m = re.search(r"has (\d+) boxes with (\d+) \w+ in each box\. \w+ gives away (\d+)", prompt)
            assert m, prompt
            boxes, per, given = map(int, m.groups())
            right = boxes * per - given
            return f"The answer is {right if rng.randrange(10) < skill else right + 1}"
        return answer

    db = tmp_path / "r.duckdb"
    summaries = {}
    for name, skill in (("weak", 5), ("strong", 8)):
        spec = ModelSpec(name=name, backend="hf", model=f"fake-{name}")
        summaries[name] = run(spec, [get_task("arith")], 3, Store(db), Source(limit=60),
                              backend_factory=lambda s, sk=skill: FakeBackend(solver(sk)), progress=False)
    r = invoke("weak", "vs", "strong", "--db", str(db), "-f", "json")
    assert r.exit_code == 0, r.output
    t = json.loads(r.stdout)["tasks"][0]
    assert t["n_items"] == 60
    assert t["a"]["score"] == pytest.approx(summaries["weak"].tasks[0].maj_at_k)
    assert t["b"]["score"] == pytest.approx(summaries["strong"].tasks[0].maj_at_k)
    rows = Store(db, read_only=True).query(
        "SELECT r.model_name, i.item_id, i.maj_correct FROM item_results i JOIN runs r USING (run_id)")
    by = {(x["model_name"], x["item_id"]): x["maj_correct"] for x in rows}
    ids = {i for _, i in by}
    assert t["a_only"] == sum(by[("weak", i)] and not by[("strong", i)] for i in ids)
    assert t["b_only"] == sum(by[("strong", i)] and not by[("weak", i)] for i in ids)
    assert t["p_value"] == pytest.approx(sps.binomtest(t["a_only"], t["a_only"] + t["b_only"], 0.5).pvalue
                                         if t["a_only"] + t["b_only"] else 1.0)
