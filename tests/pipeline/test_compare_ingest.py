"""Done means: comparing two ingested models of known accuracy reproduces their accuracies,
difference and p-value, in all three formats, through the CLI.

Generations for two models are written as JSONL, stored with `harness ingest` (graded by the task's
own numeric grader, voted, recorded), then compared with `harness compare`. By construction A's
majority answer is right on exactly 300 of 500 items and B's on 350, with 40 items only A solves
and 90 only B solves; scipy's binomial test is the reference p-value."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from scipy import stats as sps
from typer.testing import CliRunner

from harness.cli.app import app

N, BOTH, A_ONLY, B_ONLY = 500, 260, 40, 90
P_VALUE = sps.binomtest(A_ONLY, A_ONLY + B_ONLY, 0.5).pvalue


def write_generations(tmp: Path) -> tuple[Path, Path]:
    """Three samples per item. A: right items 2 of 3 samples right, wrong items 1 of 3 (majority
    wrong). B: right items 3 of 3, wrong items 0 of 3."""
    cells = ["both"] * BOTH + ["a"] * A_ONLY + ["b"] * B_ONLY + ["neither"] * (N - BOTH - A_ONLY - B_ONLY)
    random.Random(5).shuffle(cells)
    a_lines, b_lines = [], []
    for i, cell in enumerate(cells):
        gold = 10 + i
        a_answers = [gold, gold, gold + 1] if cell in ("both", "a") else [gold + 1, gold + 1, gold]
        b_answers = [gold] * 3 if cell in ("both", "b") else [gold + 2, gold + 2, gold + 3]
        for model, answers, out in (("phi-ingested", a_answers, a_lines), ("big-ingested", b_answers, b_lines)):
            for s, ans in enumerate(answers):
                out.append({"model": model, "task": "arith", "item_id": f"q{i}", "sample": s,
                            "gold": str(gold), "response": f"Let me think. The answer is {ans}."})
    paths = []
    for name, lines in (("a.jsonl", a_lines), ("b.jsonl", b_lines)):
        p = tmp / name
        p.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
        paths.append(p)
    return paths[0], paths[1]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("ingest")
    a, b = write_generations(tmp)
    db = tmp / "r.duckdb"
    runner = CliRunner()
    for path, size in ((a, "14"), (b, "70")):
        r = runner.invoke(app, ["ingest", str(path), "--db", str(db), "--params-b", size, "--json"])
        assert r.exit_code == 0, r.output
    return db


def compare(db: Path, *args: str):
    r = CliRunner(env={"COLUMNS": "220"}).invoke(
        app, ["compare", "phi-ingested", "vs", "big-ingested", "--db", str(db), *args])
    assert r.exit_code == 0, r.output
    return r


def test_json(db: Path) -> None:
    doc = json.loads(compare(db, "--format", "json").stdout)
    (t,) = doc["tasks"]
    assert (t["task"], t["n_items"]) == ("arith", N)
    assert t["a"]["score"] == 0.6 and t["b"]["score"] == 0.7
    assert t["diff"] == pytest.approx(-0.1)
    assert t["diff_ci_low"] < -0.1 < t["diff_ci_high"] < 0
    assert t["p_value"] == pytest.approx(P_VALUE, rel=1e-12)
    assert (t["a_only"], t["b_only"], t["dropped_a"], t["dropped_b"]) == (A_ONLY, B_ONLY, 0, 0)
    assert doc["models"]["a"]["params"] == pytest.approx(14e9)
    assert doc["size_efficiency"]["verdict"] == "larger_better"
    assert doc["runs"]["a"]["arith"]["k"] == 3


def test_markdown(db: Path) -> None:
    md = compare(db, "--format", "markdown").stdout
    assert "| arith | 500 | 60.0 [55.6, 64.2] | 70.0 [65.8, 73.9] | -10.0 [" in md
    assert f"| {P_VALUE:.1e} | 40 | 90 |" in md


def test_table(db: Path) -> None:
    out = compare(db).stdout
    for text in ("60.0 [55.6, 64.2]", "70.0 [65.8, 73.9]", f"{P_VALUE:.1e}", "McNemar exact",
                 "phi-ingested (14B) vs big-ingested (70B, 5x larger) on maj@k: the larger model is better"):
        assert text in out, text


def test_pass_at_1_and_items(db: Path) -> None:
    doc = json.loads(compare(db, "-f", "json", "--metric", "pass@1", "--items").stdout)
    t = doc["tasks"][0]
    assert t["a"]["score"] == pytest.approx((300 * 2 / 3 + 200 * 1 / 3) / N)
    assert t["b"]["score"] == pytest.approx(0.7)
    maj = json.loads(compare(db, "-f", "json", "--items").stdout)
    items = maj["items"]
    assert len(items) == A_ONLY + B_ONLY
    # Every disagreement has a smaller share of 2/3; only-B items come first because B's winning
    # share (3/3) is larger than A's (2/3) on only-A items.
    assert {i["winner"] for i in items[:B_ONLY]} == {"b"} and {i["winner"] for i in items[B_ONLY:]} == {"a"}
    first = items[0]
    assert first["a_share"] == pytest.approx(2 / 3) and first["b_share"] == pytest.approx(1.0)
    assert first["b_answer"] == first["gold"] != first["a_answer"]
