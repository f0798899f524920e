"""The leaderboard's answer pages through Streamlit's AppTest on stores made by the real run loop
(tests/leaderboard_seed.py): the item view (models side by side, full text with the answer marked,
thinking folded, deep links beyond the picker's cap) and Compare (the paired difference and who
solves what, plotted; each differing item linked to its samples) and the training queue."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pyarrow as pa
import pytest

from harness.leaderboard import metrics
from harness.store import QueueRow, Store, now
from leaderboard_seed import LONG_ITEMS, LONG_THINKING, PHI, _run, phi_right, seed_long_store, seed_queue, seed_store
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
    at.selectbox(key="items_model").select("70b").run()  # another model: the same item
    assert dict(at.query_params) == {"task": "arith", "model": "70b", "item": "8"}
    at.selectbox(key="items_task").select("arith_b").run()  # another task: its first item, not a stale id
    assert at.selectbox(key="items_item").value == "10" and not at.warning
    assert dict(at.query_params) == {"task": "arith_b", "model": "70b", "item": "10"}


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


def chart_data(at) -> list[list[pd.DataFrame]]:
    """Each Altair chart's datasets, as the app sent them (Arrow)."""
    return [[pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in c.proto.datasets]
            for c in at.get("vega_lite_chart")]


def test_compare_plots_the_paired_difference_and_who_solves_what(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "compare")
    assert dict(at.query_params) == {"a": "phi", "b": "70b"}
    diff, counts = chart_data(at)
    interval = diff[-1].set_index("task")[["diff", "low", "high"]]
    per_task = at.dataframe[0].value.set_index("task")[["diff", "diff low", "diff high"]]
    assert interval.values.tolist() == per_task.values.tolist()  # the table's numbers, plotted
    assert list(interval.index) == ["arith", "arith_b", "overall"]
    assert interval.loc["overall", "diff"] == -15.0 and interval.loc["overall", "low"] < -15.0
    # seed: 70b misses items 9 and 19; phi misses 7, 8, 9 and 18, 19
    table = at.dataframe[1].value.set_index("task")
    assert table.loc["arith", ["both", "only phi", "only 70b", "neither"]].tolist() == [7, 0, 2, 1]
    assert table.loc["arith_b", ["both", "only phi", "only 70b", "neither"]].tolist() == [8, 0, 1, 1]
    plotted = counts[0].pivot(index="task", columns="outcome", values="items")
    assert plotted.loc["arith", ["both", "only phi", "only 70b", "neither"]].tolist() == [7, 0, 2, 1]


def test_a_differing_item_links_to_both_models_samples(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "compare", a="70b", b="phi")  # a link can choose the pair
    assert (at.selectbox(key="cmp_a").value, at.selectbox(key="cmp_b").value) == ("70b", "phi")
    wins = at.dataframe[2].value  # 70b's wins
    links = dict(zip(wins["item"], wins["samples"]))
    assert links["7"] == "items?task=arith&models=70b,phi&item=7"
    target = parse_qs(urlsplit(links["7"]).query)
    at = app(seeded, monkeypatch, "items", **{k: v[0] for k, v in target.items()})
    assert [m.value for m in at.markdown if m.value.startswith("### ")] == ["### 70b", "### phi"]
    assert {m.label: m.value for m in at.metric}["gold"] == "71"
    assert [(m.label, m.value) for m in at.metric if m.label == "correct samples"] == [
        ("correct samples", "4 / 4"), ("correct samples", "1 / 4")]


@pytest.fixture(scope="module")
def queued(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("queue")
    return seed_queue(d / "q.duckdb", d / "sft.jsonl"), d / "sft.jsonl"


def test_queue_page_says_how_to_fill_it(seeded, tmp_path, monkeypatch):
    at = app(seeded, monkeypatch, "queue")
    assert "Nothing is queued for training" in texts(at)
    assert f"harness teach --model phi --teacher 70b --db {seeded}" in texts(at)  # smallest, largest
    assert f"harness export-sft --model phi --out sft.jsonl --db {seeded}" in texts(at)
    empty = tmp_path / "empty.duckdb"
    Store(empty).schema_version()
    at = app(empty, monkeypatch, "queue")
    assert "Nothing is queued" in texts(at) and f"harness demo --db {empty}" in texts(at)


def test_queue_page_shows_the_queue_the_edge_and_the_exports(queued, monkeypatch):
    db, sft = queued
    at = app(db, monkeypatch, "queue", model="phi")
    assert at.multiselect(key="queue_models").value == ["phi"]
    assert {m.label: m.value for m in at.metric} == {"queued items": "4", "pending": "1", "exported": "3"}
    summary = at.dataframe[0].value.set_index(["task", "reason"])
    assert summary.loc[("arith", "own_samples"), ["queued", "exported", "pending", "mean_pass_rate"]].tolist() == [
        3, 3, 0, 25.0]
    assert summary.loc[("arith_b", "teacher"), ["queued", "exported", "pending"]].tolist() == [1, 0, 1]
    (edge,), = chart_data(at)
    assert edge.sort_values("low")[["reason", "low", "items"]].values.tolist() == [
        ["teacher", 0.0, 1], ["own_samples", 0.2, 3]]  # pass rates 0 (18) and 1/4 (7, 8, 9)
    exports = at.dataframe[1].value
    assert exports[["export_path", "items", "tasks"]].values.tolist() == [[str(sft), 3, "arith"]]
    assert len(sft.read_text().splitlines()) == 3
    items = at.dataframe[2].value
    assert items["item_id"].tolist() == ["7", "8", "9", "18"]
    assert items.set_index("item_id").loc["18", "samples"] == "items?task=arith_b&models=phi,70b&item=18"
    at.radio(key="queue_status").set_value("pending").run()
    assert at.dataframe[-1].value["item_id"].tolist() == ["18"]


def test_queue_page_writes_the_models_picked_into_the_url(queued, tmp_path, monkeypatch):
    db = tmp_path / "two.duckdb"
    db.write_bytes(queued[0].read_bytes())
    store = Store(db)
    run_id = store.latest_run("70b", "arith")
    store.queue_items([QueueRow(model_name="70b", task="arith", task_version=1, item_id="9", reason="own_samples",
                                pass_rate=0.25, run_id=run_id, queued_at=now())])
    at = app(db, monkeypatch, "queue", model="phi")
    assert at.multiselect(key="queue_models").value == ["phi"] and dict(at.query_params) == {"model": "phi"}
    at.multiselect(key="queue_models").set_value(["phi", "70b"]).run()
    assert dict(at.query_params) == {}  # every model: the page's default, no parameter
    assert at.metric[0].value == "5"
    at.multiselect(key="queue_models").set_value(["70b"]).run()
    assert dict(at.query_params) == {"model": "70b"} and at.metric[0].value == "1"
    again = app(db, monkeypatch, "queue", **dict(at.query_params))  # the copied URL opens the same queue
    assert again.multiselect(key="queue_models").value == ["70b"]
    assert again.dataframe[-1].value["item_id"].tolist() == ["9"]
    both = app(db, monkeypatch, "queue", models="70b,phi")
    assert both.multiselect(key="queue_models").value == ["phi", "70b"]  # smallest first


def test_pass_rate_histogram_bins():
    q = pd.DataFrame({"model": ["m"] * 4, "reason": ["own_samples"] * 4, "pass_rate": [0.0, 0.1, 0.95, 1.0]})
    h = metrics.pass_rate_histogram(q)
    assert h[["low", "items"]].values.tolist() == [[0.0, 1], [0.1, 1], [0.9, 2]]


def test_board_marks_changes_against_each_models_previous_run(seeded, monkeypatch):
    at = app(seeded, monkeypatch)
    board = at.dataframe[0].value.set_index("model")
    assert board.loc["phi", "vs previous run"] == "arith ▲ +20.0 · arith_b ▲ +30.0"  # night 1: 50 and 50
    assert board.loc["70b", "vs previous run"] == "first run"
    detail = at.dataframe[1].value.set_index(["model", "task"])
    assert detail.loc[("phi", "arith"), ["trend", "change"]].tolist() == ["▲ +20.0", "+20.0"]
    assert detail.loc[("70b", "arith"), "trend"] == "new"
    assert not [w for w in at.warning if "Fell" in w.value]


def test_board_flags_a_model_that_fell(seeded, tmp_path, monkeypatch):
    db = tmp_path / "fell.duckdb"
    db.write_bytes(seeded.read_bytes())
    _run(Store(db), PHI, phi_right, 0)  # phi again as on night 1: 50 and 50
    at = app(db, monkeypatch)
    board = at.dataframe[0].value
    assert board["model"].tolist() == ["70b", "phi"] and board["mean"].tolist() == ["90.0", "50.0"]  # best first
    assert board.set_index("model").loc["phi", "vs previous run"] == "arith ▼ −20.0 · arith_b ▼ −30.0"
    falls = [w.value for w in at.warning if w.value.startswith("Fell")]
    assert len(falls) == 1 and "phi on arith_b: 50.0 (▼ −30.0 points" in falls[0]
    at.radio(key="board_metric").set_value("pass@1").run()  # the change follows the metric
    assert at.dataframe[1].value.set_index(["model", "task"]).loc[("phi", "arith"), "change"] == "-22.5"
