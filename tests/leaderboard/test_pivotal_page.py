"""The item explorer shows where a sample went wrong: a store made by the real run loop and the real
pivotal search (a fake backend whose answer one digit decides, the wordmath grader, DuckDB), read by
the page through Streamlit's AppTest: the success-probability curve, the pivotal tokens marked in the
text, and model text that stays text."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.analysis.pivotal_run import PivotalConfig, find_pivotal
from harness.data import Source
from harness.leaderboard import markup
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.records import Sampling
from harness.store import Store
from harness.tasks import get_task
from fakes import FakeBackend
from pivotal_world import answers
from test_leaderboard_pages import app, charts, texts

SPEC = ModelSpec(name="phi", backend="hf", model="fake-model-id")
HOSTILE = " [click](http://evil.example) <b>So</b> it is "


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> tuple[Path, list[dict]]:
    db = tmp_path_factory.mktemp("pivotal") / "p.duckdb"
    task = get_task("wordmath")
    items = task.load_items(Source(limit=3))
    store = Store(db)
    backend = FakeBackend(answers(task, items, lead=HOSTILE), batch_size=512)
    run(SPEC, [task], 4, store, Source(limit=3), backend_factory=lambda s: backend, progress=False,
        sampling={"temperature": 0.8, "max_tokens": 64})
    report = find_pivotal(store, SPEC, task, items, tuple, lambda: backend, Sampling(max_tokens=64, temperature=0.8),
                          PivotalConfig(rollouts=128))
    assert report.tokens
    return db, store.pivotal_tokens(search_id=report.search.search_id)


def test_a_searched_sample_shows_its_curve_and_its_pivotal_token(searched, monkeypatch):
    db, tokens = searched
    t = tokens[0]
    at = app(db, monkeypatch, "items", task="wordmath", model="phi", item=t["item_id"])
    marked = [m.value for m in at.markdown if "-background[**" in m.value and "\\[click\\]" in m.value
              and "answer is :" not in m.value]
    colour = "green" if t["delta"] > 0 else "red"
    assert any(f":{colour}-background[**{t['token']}**]" in v for v in marked), marked
    assert all("](http" not in v and "<b>" not in v for v in marked)  # the link and the tag stay text
    assert any(f"token {t['position']}" in c.value and f"{t['delta']:+.2f}" in c.value for c in at.caption)
    assert charts(at) >= 2  # the vote distribution and at least one success curve
    assert "pivotal)" in " ".join(e.label for e in at.expander)


def test_a_run_without_a_search_shows_no_curve(tmp_path, monkeypatch):
    task = get_task("wordmath")
    items = task.load_items(Source(limit=2))
    db = tmp_path / "plain.duckdb"
    run(SPEC, [task], 4, Store(db), Source(limit=2), backend_factory=lambda s: FakeBackend(answers(task, items)),
        progress=False)
    at = app(db, monkeypatch, "items", task="wordmath", model="phi", item=items[0].id)
    assert charts(at) == 1 and "pivotal)" not in " ".join(e.label for e in at.expander)
    assert "success probability" not in texts(at)


# (text, marks, expected markdown)
MARKUP = [
    (" Ana has 7 apples.", [(9, 10, -0.6)], "\u00a0Ana has :red-background[**7**] apples\\."),
    ("a [b](c) d", [(9, 10, 0.3)], "a \\[b\\]\\(c\\) :green-background[**d**]"),
    ("x = 2", [(1, 2, 0.4)], "x:green-background[**\u2423**]\\= 2"),          # a blank token stays visible
    ("ab", [(0, 2, 0.4), (1, 2, -0.4)], ":green-background[**ab**]"),       # overlapping marks: the first wins
    ("ab", [(1, 5, 0.4)], "ab"),                                           # outside the text: not marked
]


@pytest.mark.parametrize("text,marks,expected", MARKUP)
def test_pivotal_markdown_marks_tokens_and_escapes_the_rest(text, marks, expected):
    assert markup.pivotal_markdown(text, marks) == expected
