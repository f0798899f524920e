"""The board shows each task's conventions and a second grader's disagreements (Streamlit AppTest on a
real DuckDB file filled by the real run loop, regrade and audit)."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from harness.data import Source
from harness.grading.math.conventions import math_options
from harness.leaderboard import APP_PATH
from harness.models import ModelSpec
from harness.pipeline.audit import audit_run
from harness.pipeline.regrade import regrade
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from fakes import FakeBackend


def _answer(prompt: str, rng) -> str:
    boxes, per, given = map(int, re.search(r"has (\d+) boxes with (\d+) .*gives away (\d+)", prompt).groups())
    g = boxes * per - given
    return f"\\boxed{{{g}}}" if rng.random() < 0.5 else f"\\boxed{{{100 * g}\\%}}"


def _page(db, monkeypatch) -> AppTest:
    monkeypatch.setenv("HARNESS_DB", str(db))
    at = AppTest.from_file(str(APP_PATH), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_board_shows_conventions_and_the_second_opinion(tmp_path, monkeypatch):
    db = tmp_path / "lb.duckdb"
    store = Store(db)
    spec = ModelSpec(name="fake", backend="hf", model="fake-model-id")
    other = ModelSpec(name="other", backend="hf", model="other-model-id")
    strict = run(spec, [get_task("arith")], 2, store, Source(limit=10), backend_factory=lambda s: FakeBackend(answer=_answer),
                 progress=False)
    run(other, [get_task("arith")], 2, store, Source(limit=10), backend_factory=lambda s: FakeBackend(answer=_answer),
        progress=False, math_options=math_options("lenient"))
    (audit,) = audit_run(store, strict.run_id, opinion=lambda pairs: [True] * len(pairs), grader="fake-verify 1")
    n_wrong = audit.summary.n_disagree
    assert n_wrong > 0

    at = _page(db, monkeypatch)
    detail = next(d.value for d in at.dataframe if "conventions" in d.value.columns)
    by_model = detail.set_index("model")
    assert by_model.loc["fake", "conventions"] == "strict" and by_model.loc["other", "conventions"] == "lenient"
    assert by_model.loc["fake", "second opinion"].startswith(f"{100 * n_wrong / 20:.1f}% ({n_wrong} of 20 samples")
    assert by_model.loc["other", "second opinion"] == "not audited"
    assert "Second opinion" in [h.value for h in at.subheader]
    table = next(d.value for d in at.dataframe if "audit_disagree" in d.value.columns)
    assert list(table["model"]) == ["fake"] and int(table["audit_disagree"].iloc[0]) == n_wrong
    (exp,) = [e for e in at.expander if e.label.startswith("arith:")]
    assert exp.label.startswith(f"arith: {n_wrong} samples judged otherwise")
    items = exp.dataframe[0].value
    assert len(items) == n_wrong and set(items["theirs"]) == {"correct"} and set(items["ours"]) == {"incorrect"}

    # graded again under lenient, the fake model's latest run agrees with the second grader: no audit shown for it
    regrade(store, strict.run_id, math_options("lenient"))
    at = _page(db, monkeypatch)
    detail = next(d.value for d in at.dataframe if "conventions" in d.value.columns).set_index("model")
    assert detail.loc["fake", "conventions"] == "lenient" and detail.loc["fake", "second opinion"] == "not audited"
    assert any("No latest run here has a second opinion" in c.value for c in at.caption)
