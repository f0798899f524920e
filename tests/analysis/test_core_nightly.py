"""Nightly regression checks: a new checkpoint that got worse is flagged, an unchanged one is not."""

import json
import subprocess
import sys

import pytest

from harness.data import Source
from harness.models import ModelSpec
from harness.analysis.nightly import check_models, check_pair
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from fakes import FakeBackend


def rows(correct):
    return {str(i): c for i, c in enumerate(correct)}


@pytest.mark.parametrize("old,new,status", [
    ([True] * 60 + [False] * 40, [True] * 30 + [False] * 70, "regressed"),
    ([True] * 30 + [False] * 70, [True] * 60 + [False] * 40, "improved"),
    ([True] * 50 + [False] * 50, [True] * 49 + [False] * 51, "steady"),
])
def test_check_pair(old, new, status):
    c = check_pair("phi", "t", "new", rows(new), "old", rows(old))
    assert c.status == status and c.n_items == 100
    assert c.score == pytest.approx(sum(new) / 100) and c.baseline_score == pytest.approx(sum(old) / 100)


def test_no_baseline():
    assert check_pair("phi", "t", "r", rows([True]), None, None).status == "no_baseline"


def test_new_checkpoint_that_regressed_is_flagged_and_stored(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    items = get_task("arith").load(Source(limit=60))
    gold = {it.fields["question"]: it.gold for it in items}
    good = FakeBackend(answer=lambda p, rng: "The answer is " + next(g for q, g in gold.items() if q in p))
    bad = FakeBackend(answer=lambda p, rng: "The answer is -1")
    # the same alias, two checkpoints (different fingerprints): last night good, tonight broken
    run(ModelSpec("phi", "hf", "ckpt-1"), [get_task("arith")], 2, store, Source(limit=60),
        backend_factory=lambda s: good, progress=False)
    run(ModelSpec("phi", "hf", "ckpt-2"), [get_task("arith")], 2, store, Source(limit=60),
        backend_factory=lambda s: bad, progress=False)
    (c,) = check_models(store, ["phi"])
    assert c.status == "regressed" and c.diff == pytest.approx(-1.0) and c.p_value < 1e-10
    assert store.query("SELECT status FROM nightly_checks")[0]["status"] == "regressed"

    r = subprocess.run([sys.executable, "-m", "harness", "nightly", "--check-only", "--model", "hf:x", "--task", "arith",
                        "--db", str(tmp_path / "r.duckdb"), "--json"], capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout) == []  # a model with no runs: nothing to judge
    r = subprocess.run([sys.executable, "-m", "harness", "nightly", "--check-only", "--model", "phi", "--task", "arith",
                        "--db", str(tmp_path / "r.duckdb")], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1 and "regressed" in r.stdout
