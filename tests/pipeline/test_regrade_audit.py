"""Conventions recorded with a run, a run graded again under other conventions from its stored samples
(nothing generated), and a second opinion stored as disagreements: real DuckDB files, a fake backend,
the real command line, and Math-Verify in its own process where installed."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.data import Source
from harness.grading.math import second_opinion
from harness.grading.math.conventions import math_options
from harness.models import ModelSpec
from harness.pipeline.audit import audit_run
from harness.pipeline.regrade import regrade
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from fakes import FakeBackend

SPEC = ModelSpec(name="fake", backend="hf", model="fake-model-id")


def _gold(prompt: str) -> int:
    boxes, per, given = re.search(r"has (\d+) boxes with (\d+) .*gives away (\d+)", prompt).groups()
    return int(boxes) * int(per) - int(given)


def _answer(prompt: str, rng) -> str:
    """Sample 0 (seeded draws differ per sample): the answer; otherwise it written as a percentage,
    which only a convention that reads `%` either way accepts."""
    g = _gold(prompt)
    return f"\\boxed{{{g}}}" if rng.random() < 0.5 else f"So the share is \\boxed{{{100 * g}\\%}}"


def _stored_run(tmp_path, **kw):
    store = Store(tmp_path / "r.duckdb")
    backend = FakeBackend(answer=_answer)
    summary = run(SPEC, [get_task("arith")], 4, store, Source(limit=12), backend_factory=lambda s: backend,
                  progress=False, **kw)
    return store, summary, backend


def test_conventions_are_recorded_and_a_regrade_generates_nothing(tmp_path):
    store, strict, backend = _stored_run(tmp_path)
    (t,) = strict.tasks
    assert t.conventions == "strict" and 0 < t.pass_at_1 < 1
    assert store.task_results(strict.run_id)[0]["conventions"] == "strict"
    generations = store.query("SELECT count(*) AS n FROM generations")[0]["n"]

    lenient = regrade(store, strict.run_id, math_options("lenient"))
    (lt,) = lenient.tasks
    assert lt.conventions == "lenient" and lt.pass_at_1 == 1.0 and lt.generated == 0 and lt.reused == 48
    assert store.query("SELECT count(*) AS n FROM generations")[0]["n"] == generations
    row = store.run_row(lenient.run_id)
    assert (row["regraded_from"], row["source"], row["status"], row["k"]) == (strict.run_id, "regrade", "done", 4)
    # the same samples, by generation key, under the other verdicts
    keys = lambda rid: sorted(r["gen_key"] for r in store.query("SELECT gen_key FROM scores WHERE run_id = ?", [rid]))
    assert keys(lenient.run_id) == keys(strict.run_id)


def test_a_run_under_named_conventions_records_them(tmp_path):
    _, summary, _ = _stored_run(tmp_path, math_options=math_options("lenient", {"percent": "strip"}))
    assert summary.tasks[0].conventions == "lenient, percent=strip" and summary.tasks[0].pass_at_1 < 1


def test_audit_stores_disagreements_and_replaces_an_earlier_audit(tmp_path):
    store, summary, _ = _stored_run(tmp_path)
    calls = []

    def opinion(pairs):  # a second grader that reads "%" as a hundredth: every percentage is right
        calls.append(list(pairs))
        return [a is not None and (a == g or a.replace("\\%", "") == str(100 * int(g))) for g, a in pairs]

    for _ in range(2):
        (result,) = audit_run(store, summary.run_id, opinion=opinion, grader="fake 1.0")
    s = result.summary
    wrong = store.query("SELECT count(*) AS n FROM scores WHERE run_id = ? AND verdict != 'correct'", [summary.run_id])[0]["n"]
    assert (s.n_samples, s.n_checked, s.n_disagree, s.n_items) == (48, 48, wrong, 12) and wrong > 0
    assert s.their_pass_at_1 == 1.0 and s.our_pass_at_1 == pytest.approx(summary.tasks[0].pass_at_1)
    stored = store.audit_disagreements(summary.run_id)
    assert len(stored) == wrong and {(d["ours"], d["theirs"]) for d in stored} == {("incorrect", "correct")}
    assert all(d["extracted"].endswith("\\%") for d in stored)
    assert len(store.audits(summary.run_id)) == 1  # the second audit replaced the first
    assert calls[0][0][0] == get_task("arith").load_items(Source(limit=1))[0].gold


def test_an_opinion_that_gives_none_is_no_disagreement(tmp_path):
    store, summary, _ = _stored_run(tmp_path)
    (result,) = audit_run(store, summary.run_id, opinion=lambda pairs: [None] * len(pairs), grader="mute")
    assert (result.summary.n_checked, result.summary.n_disagree, result.rate) == (0, 0, None)


@pytest.mark.skipif(not second_opinion.available(), reason="math-verify is not installed")
def test_cli_regrade_and_audit_with_math_verify(tmp_path):
    store, summary, _ = _stored_run(tmp_path)
    db = str(tmp_path / "r.duckdb")
    r = CliRunner().invoke(app, ["regrade", "--run", summary.run_id, "--conventions", "lenient", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["regraded_from"] == summary.run_id and out["tasks"][0]["conventions"] == "lenient"
    assert out["tasks"][0]["pass_at_1"] == 1.0

    r = CliRunner().invoke(app, ["audit", "--run", summary.run_id, "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    (a,) = json.loads(r.stdout)["audit"]
    assert a["grader"].startswith("math-verify") and a["checked"] == 48
    # Math-Verify reads 1200% as 12: it calls every percentage right, where strict calls it wrong
    assert a["disagree"] == len(a["disagreements"]) > 0
    assert {(d["ours"], d["theirs"]) for d in a["disagreements"]} == {("incorrect", "correct")}
    r = CliRunner().invoke(app, ["audit", "--run", "nope", "--db", db])
    assert r.exit_code != 0


def test_math_verify_timeouts_stay_in_its_process():
    if not second_opinion.available():
        pytest.skip("math-verify is not installed")
    # a pair far past any limit: the child is killed and replaced, the rest still judged
    verdicts = second_opinion.math_verify_verdicts(
        [("\\frac12", "0.5"), ("1", "(" * 60 + "1" + ")" * 60), ("3", "4"), ("2", None)], pair_timeout_s=3)
    assert verdicts[0] is True and verdicts[2] is False and verdicts[3] is None
