"""The recipe's `anchors`: every arm's data also holds the start model's own correct answers to the
selection items it solves, but the arm's own picks, on a real store."""

from __future__ import annotations

import json

import pytest

from harness.data import Source
from harness.errors import HarnessError
from harness.loop.config import parse
from harness.loop.engine import _anchors, augment
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from tests.fakes import FakeBackend

BASE = {"name": "x", "student": "s", "task": "arith", "test_size": 2}


def test_anchors_hold_the_solved_items_but_the_picks(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    task = get_task("arith")
    items = task.load(Source(limit=6))
    right = {task.render(it).text: it.gold for n, it in enumerate(items) if n % 2 == 0}  # solves items 0, 2, 4
    backend = FakeBackend(answer=lambda prompt, rng: f"The answer is {right.get(prompt, -1)}")
    summary = run(ModelSpec("m", "hf", "some-model"), [task], 2, store, Source(limit=6),
                  backend_factory=lambda s: backend, progress=False)
    own = store.item_results(summary.run_id, ["arith"])
    solved = sorted(str(r["item_id"]) for r in own if r["maj_correct"])
    assert solved == [items[0].id, items[2].id, items[4].id]
    export = tmp_path / "random-s0.jsonl"
    export.write_text('{"messages": [], "item_id": "picked"}\n')
    picks = [(items[2].id, "random"), (items[1].id, "random")]  # one solved item picked: not repeated
    anchors = _anchors(store, summary.run_id, "arith", own, picks, tmp_path / "random-s0.anchors.jsonl", "m")
    assert len(anchors) == 2
    # the training file: the export's lines, then the anchors
    train, _, _ = augment(export, tmp_path / "random-s0.train.jsonl", task, {}, 0, 0, set(), tail=anchors)
    lines = [json.loads(line) for line in train.read_text().splitlines()]
    assert lines[0]["item_id"] == "picked"
    assert [(x["item_id"], x["source"], x["reason"]) for x in lines[1:]] == [
        (items[0].id, "own", "anchor"), (items[4].id, "own", "anchor")]
    assert all(x["messages"][-1]["content"].strip().startswith("The answer is") for x in lines[1:])
    assert (tmp_path / "random-s0.anchors.jsonl").is_file()


def test_anchors_are_off_unless_asked_and_unset_keeps_the_loop_id():
    assert parse(BASE).recipe.anchors is False
    assert "anchors" not in parse(BASE).to_json()["recipe"]
    assert parse({**BASE, "recipe": {"anchors": True}}).to_json()["recipe"]["anchors"] is True
    with pytest.raises(HarnessError, match="anchors is true or false"):
        parse({**BASE, "recipe": {"anchors": "yes"}})
