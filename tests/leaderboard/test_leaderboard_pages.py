"""Every leaderboard page through Streamlit's AppTest against a store seeded by the real run loop
(tests/leaderboard_seed.py says which numbers it holds), asserting the numbers shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from harness.store import Store
from harness.leaderboard import APP_PATH
from leaderboard_seed import PHI, _run, phi_right, seed_store

TIMEOUT = 60


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    return seed_store(tmp_path_factory.mktemp("lb") / "seeded.duckdb")


def app(db: Path, monkeypatch, page: str | None = None, **query: str) -> AppTest:
    monkeypatch.setenv("HARNESS_DB", str(db))
    at = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def texts(at: AppTest) -> str:
    return "\n".join([*(m.value for m in at.markdown), *(c.value for c in at.caption), *(i.value for i in at.info),
                      *(w.value for w in at.warning)])


def charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def test_missing_store_says_what_to_do(tmp_path, monkeypatch):
    db = tmp_path / "none.duckdb"
    at = app(db, monkeypatch)
    assert "No results store" in texts(at) and f"harness demo --db {db}" in texts(at)
    assert not db.exists()  # the app did not create it


def test_empty_store_says_what_to_do(tmp_path, monkeypatch):
    db = tmp_path / "empty.duckdb"
    Store(db).schema_version()
    for page in (None, "size", "compare", "items", "history"):
        at = app(db, monkeypatch, page)
        assert "holds no scored runs yet" in texts(at)
        assert f"harness run --model phi --task arith -k 8 --db {db}" in texts(at)


def test_leaderboard_shows_latest_scores_with_intervals(seeded, monkeypatch):
    at = app(seeded, monkeypatch)
    board = at.dataframe[0].value.set_index("model")
    assert list(board.index) == ["70b", "phi"]  # ranked by the mean over shared tasks
    assert board.loc["phi", ["arith", "arith_b", "mean"]].tolist() == ["70.0", "80.0", "75.0"]  # shown as text: a missing one is blank
    assert board.loc["70b", ["arith", "arith_b", "mean"]].tolist() == ["90.0", "90.0", "90.0"]
    assert board.loc["phi", "size"] == "14.7B" and board.loc["70b", "family"] == "llama"
    assert board.loc["phi", "runs"] == 2 and board.loc["phi", "history"] == "history?model=phi"
    detail = at.dataframe[1].value.set_index(["model", "task"])
    assert detail.loc[("phi", "arith"), ["score", "low", "high"]].tolist() == [70.0, 39.7, 89.2]  # Wilson 7/10
    assert charts(at) == 1

    at.radio(key="board_metric").set_value("pass@1").run()
    board = at.dataframe[0].value.set_index("model")
    assert board.loc["phi", ["arith", "arith_b"]].tolist() == ["72.5", "80.0"]
    low, high = at.dataframe[1].value.set_index(["model", "task"]).loc[("phi", "arith"), ["low", "high"]]
    assert low < 72.5 < high  # bootstrap over items

    at.radio(key="board_metric").set_value("pass@k").run()
    assert at.dataframe[0].value.set_index("model").loc["phi", "arith"] == "100.0"


def test_small_vs_large_frontier_and_voting_gain(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "size")
    points = at.dataframe[0].value.set_index("model")
    assert points.loc["phi", "score"] == 70.0 and points.loc["70b", "score"] == 90.0
    assert points["frontier"].all()  # the smaller one is worse, the larger one better: both Pareto
    assert "Pareto frontier** on arith (maj@k): `phi`, `70b`" in texts(at)
    gain = at.dataframe[1].value.set_index(["model", "task"])
    assert gain.loc[("phi", "arith"), "gain"] == -2.5  # maj@k 70 - pass@1 72.5
    assert gain.loc[("70b", "arith"), "gain"] == 0.0
    assert charts(at) == 3  # score against size, voting gain, accuracy against tokens
    at.selectbox(key="size_task").select("arith_b").run()
    assert at.dataframe[0].value.set_index("model").loc["phi", "score"] == 80.0


def test_compare_reuses_paired_statistics(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "compare")
    assert at.selectbox(key="cmp_a").value == "phi" and at.selectbox(key="cmp_b").value == "70b"
    shown = {m.label: m.value for m in at.metric}
    assert shown["phi maj@k"] == "75.0" and shown["70b maj@k"] == "90.0"
    assert shown["phi − 70b (points)"] == "-15.0"
    assert shown["p-value"] == "0.25"  # McNemar exact, 0 vs 3 discordant items
    per_task = at.dataframe[0].value.set_index("task")
    assert per_task.loc["arith", ["only phi", "only 70b"]].tolist() == [0, 2]
    assert per_task.loc["overall", ["phi", "70b", "items"]].tolist() == [75.0, 90.0, 20]
    assert "phi (14.7B) vs 70b (70.6B" in texts(at)
    phi_wins, big_wins = at.dataframe[2].value, at.dataframe[3].value  # [1]: both / only one / neither
    assert phi_wins.empty
    assert sorted(zip(big_wins["task"], big_wins["item"])) == [("arith", "7"), ("arith", "8"), ("arith_b", "18")]
    assert "70b wins 3 item(s)" in texts(at)

    at.radio(key="cmp_metric").set_value("pass@1").run()
    assert {m.label: m.value for m in at.metric}["phi pass@1"] == "76.2"  # (29 + 32) / 80 samples


def test_item_explorer_shows_samples_and_votes(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "items")
    at.selectbox(key="items_task").select("arith").run()
    at.selectbox(key="items_model").select("phi").run()
    runs = at.selectbox(key="items_run").options
    assert len(runs) == 2  # both nights, latest first
    at.multiselect(key="items_verdict").set_value(["incorrect"]).run()
    assert at.dataframe[0].value["item_id"].tolist() == ["7", "8", "9"]
    at.selectbox(key="items_item").select("7").run()
    shown = {m.label: m.value for m in at.metric}
    assert shown["gold"] == "71" and shown["majority answer"] == "72" and shown["correct samples"] == "1 / 4"
    assert charts(at) == 1  # the vote distribution
    blocks = [m.value for m in at.markdown if m.value.startswith("**sample ")]
    assert [b.split(" · ")[1] for b in blocks] == [":green-badge[correct]"] + [":red-badge[incorrect]"] * 3
    assert "Let me think\\. The answer is :green-background[**71**]" in texts(at)  # full text, answer marked
    assert any("boxes with" in t.value for t in at.text)  # the prompt
    assert dict(at.query_params) == {"task": "arith", "model": "phi", "item": "7"}  # the URL follows
    at.slider(key="items_agreement").set_value((0.9, 1.0)).run()
    assert "No item matches" in texts(at)


def test_history_follows_the_leaderboard_link(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "history", model="phi")
    assert at.multiselect(key="hist_models").value == ["phi"]
    hist = at.dataframe[0].value
    assert hist.sort_values("finished_at")["score"].tolist() == [50.0, 70.0]  # night 1, night 2 on arith
    assert set(hist["model"]) == {"phi"}
    assert len(at.dataframe[1].value) == 2 and set(at.dataframe[1].value["status"]) == {"done"}
    assert charts(at) == 1
    at.multiselect(key="hist_models").set_value(["phi", "70b"]).run()
    assert sorted(at.dataframe[0].value["score"].tolist()) == [50.0, 70.0, 90.0]


def test_one_run_is_useful_and_compare_says_what_is_missing(tmp_path, monkeypatch):
    db = tmp_path / "one.duckdb"
    _run(Store(db), PHI, phi_right, 1)
    at = app(db, monkeypatch)
    assert at.dataframe[0].value.set_index("model").loc["phi", "arith"] == "70.0"
    at = app(db, monkeypatch, "compare")
    assert "Only `phi` has finished runs" in texts(at) and "harness run --model 70b" in texts(at)
    for page in ("size", "items", "history"):
        at = app(db, monkeypatch, page)
        assert at.dataframe, page


def test_a_run_in_progress_shows_in_history_only(tmp_path, monkeypatch):
    db = tmp_path / "running.duckdb"
    store = Store(db)
    _run(store, PHI, phi_right, 1)
    store.query("UPDATE runs SET status = 'running', finished_at = NULL")  # as if its last task were pending
    at = app(db, monkeypatch)
    assert "No run in" in texts(at) and "has finished yet" in texts(at)
    assert not at.dataframe
    at = app(db, monkeypatch, "history")
    assert at.dataframe[0].value["score"].tolist() == [70.0]
    assert at.dataframe[1].value["status"].tolist() == ["running"]
