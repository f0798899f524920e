"""The leaderboard's answer pages through Streamlit's AppTest on stores made by the real run loop
(tests/leaderboard_seed.py): the item view (models side by side, full text with the answer marked,
thinking folded, deep links beyond the picker's cap)."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaderboard_seed import LONG_ITEMS, LONG_THINKING, seed_long_store, seed_store
from test_leaderboard_pages import app, charts, texts


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    return seed_store(tmp_path_factory.mktemp("answers") / "seeded.duckdb")


@pytest.fixture(scope="module")
def long_store(tmp_path_factory) -> Path:
    return seed_long_store(tmp_path_factory.mktemp("long") / "long.duckdb")


def sample_heads(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**sample ")]


def test_item_view_puts_two_models_side_by_side_from_a_link(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "items", task="arith", models="phi,70b", item="7")
    assert at.selectbox(key="items_model").value == "phi" and at.multiselect(key="items_with").value == ["70b"]
    assert at.selectbox(key="items_item").value == "7"
    assert [m.value for m in at.markdown if m.value.startswith("### ")] == ["### phi", "### 70b"]
    shown = [(m.label, m.value) for m in at.metric]
    assert shown == [("gold", "71"), ("majority answer", "72"), ("correct samples", "1 / 4"),
                     ("majority answer", "71"), ("correct samples", "4 / 4")]
    heads = sample_heads(at)
    assert len(heads) == 8  # phi's four samples, then 70b's
    assert [h.split(" · ")[1] for h in heads] == (
        [":green-badge[correct]"] + [":red-badge[incorrect]"] * 3 + [":green-badge[correct]"] * 4)
    bodies = [m.value for m in at.markdown if "The answer is" in m.value]
    assert bodies[1] == "Let me think\\. The answer is :red-background[**72**]"  # phi's wrong answer marked red
    assert bodies[4] == "Let me think\\. The answer is :green-background[**71**]"
    assert charts(at) == 2  # a vote distribution per model
    assert dict(at.query_params) == {"task": "arith", "models": "phi,70b", "item": "7"}

    at.selectbox(key="items_item").select("8").run()  # the URL follows the page
    assert dict(at.query_params) == {"task": "arith", "models": "phi,70b", "item": "8"}
    at.multiselect(key="items_with").set_value([]).run()
    assert dict(at.query_params) == {"task": "arith", "model": "phi", "item": "8"}
    assert len(sample_heads(at)) == 4


def test_an_older_run_is_kept_in_the_link(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "items", task="arith", model="phi", item="7")
    older = at.selectbox(key="items_run").options[1]
    at.selectbox(key="items_run").select(older).run()
    assert dict(at.query_params) == {"task": "arith", "model": "phi", "item": "7", "run": older}
    shown = {m.label: m.value for m in at.metric}
    assert shown["correct samples"] == "0 / 4"  # night 1: item 7 always wrong
    again = app(seeded, monkeypatch, "items", **dict(at.query_params))
    assert again.selectbox(key="items_run").value == older


def test_a_link_opens_an_item_beyond_the_first_thousand(long_store, monkeypatch):
    item = LONG_ITEMS[1200]
    at = app(long_store, monkeypatch, "items", task="arith_long", model="phi", item="1200")
    picker = at.selectbox(key="items_item")
    assert picker.value == "1200" and len(picker.options) == 1001  # the first 1,000 and the linked one
    assert {m.label: m.value for m in at.metric}["gold"] == item.gold
    assert at.subheader[0].value == "arith_long / item 1200"
    assert "The picker lists the first 1000 of 1205 matching items" in texts(at)
    # the answer as LaTeX for KaTeX, the extracted answer marked; the thinking folded in an expander
    assert f"So $x = {item.gold}$ and the answer is :green-background[**{item.gold}**]" in texts(at)
    fold = [e for e in at.expander if e.label.startswith("thinking")]
    assert [e.label for e in fold] == ["thinking (3 tokens)"]
    assert fold[0].markdown[0].value == LONG_THINKING.replace(",", "\\,").replace(".", "\\.")
    assert dict(at.query_params) == {"task": "arith_long", "model": "phi", "item": "1200"}


def test_a_link_to_an_unknown_item_says_so(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "items", task="arith", model="phi", item="nope")
    assert at.selectbox(key="items_item").value == "0"  # an unknown id falls back to the first item
