"""A model's latest results, size and price (`harness.analysis.results`) on a real DuckDB file: the
one ranking of runs (`queries.RANKED_RUNS`) is what `Store.latest_run`, the `latest_results` query,
the leaderboard's `task_scores` and `harness compare` all see.

The store: phi ran a (r1, with b too), then a again (r2), then a third time still running (r4) and a
fourth time failed (r5); 70b ran a once (r3). phi's spec was recorded without a size and at $2 per
million output tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from factories import item_result, start_run, task_result
from harness.analysis.results import from_rows, load_results, params_b, price_per_mtok
from harness.leaderboard import metrics
from harness.store import Store, queries


def _run(store: Store, model: str, tasks: dict[str, list[bool]], status: str | None = "done") -> str:
    run_id = start_run(store, model, k=2, tasks=list(tasks), params_b=70.0 if model == "70b" else None,
                       spec='{"price_per_mtok": {"output": 2.0}}' if model == "phi" else None)
    for task, correct in tasks.items():
        items = [item_result(run_id, task, str(i), correct=c, k=2) for i, c in enumerate(correct)]
        store.put_results([], items, task_result(items, k=2))
    if status is not None:
        store.finish_run(run_id, status)
    return run_id


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Store, dict[str, str]]:
    s = Store(tmp_path_factory.mktemp("latest") / "latest.duckdb")
    ids = {"r1": _run(s, "phi", {"a": [True, False], "b": [True, True, True]}),
           "r2": _run(s, "phi", {"a": [True, True]}),
           "r3": _run(s, "70b", {"a": [False, False]}),
           "r4": _run(s, "phi", {"a": [False, False]}, status=None),
           "r5": _run(s, "phi", {"a": [False, False]}, status="failed")}
    return s, ids


def test_every_reader_takes_the_same_latest_finished_run(store):
    s, ids = store
    assert s.latest_run("phi", "a") == ids["r2"] and s.latest_run("phi", "a", back=1) == ids["r1"]
    assert s.latest_run("phi", "a", back=2) is None and s.latest_run("phi", "b") == ids["r1"]
    with s.connect() as con:
        scores = queries.task_scores(con)
    latest = metrics.latest(scores)  # the leaderboard
    assert latest[["model", "task", "run_id"]].values.tolist() == [
        ["70b", "a", ids["r3"]], ["phi", "a", ids["r2"]], ["phi", "b", ids["r1"]]]
    assert scores[scores["run_id"].isin([ids["r4"], ids["r5"]])]["recency"].isna().all()  # not done: unranked
    phi = load_results(s, "phi")  # the commands
    assert {t: r.run_id for t, r in phi.runs.items()} == {"a": ids["r2"], "b": ids["r1"]}
    assert phi.outcomes[("a", "1")].maj_correct and len(phi.outcomes) == 5
    before = load_results(s, "phi", back=1)
    assert {t: r.run_id for t, r in before.runs.items()} == {"a": ids["r1"]}
    assert not before.outcomes[("a", "1")].maj_correct


def test_the_leaderboard_and_the_commands_read_the_same_results_size_and_price(store):
    s, _ = store
    with s.connect() as con:
        frame = queries.latest_results(con, ["phi", "70b"], ["a"])
    for model in ("phi", "70b"):
        cli, board = load_results(s, model, tasks=["a"]), from_rows(model, frame.to_dict("records"))
        assert (board.outcomes, board.runs, board.params, board.price) == (cli.outcomes, cli.runs, cli.params, cli.price)
    assert load_results(s, "70b").params == 70e9
    assert load_results(s, "phi").price == {"output": 2.0}
    assert load_results(s, "nobody").runs == {}


def test_size_is_stored_first_then_the_models_file_and_price_the_models_file_first(tmp_path: Path):
    models = tmp_path / "models.toml"
    models.write_text('[models.m]\nbackend = "hf"\nmodel = "x"\nparams_b = 7.0\nprice_per_mtok = {output = 9.0}\n')
    assert params_b("m", 1.5, models) == 1.5  # the weights that produced the results
    assert params_b("m", None, models) == 7.0 and params_b("m", 0.0, models) == 7.0
    assert params_b("unlisted", None, models) is None
    assert price_per_mtok("m", {"price_per_mtok": {"output": 2.0}}, models) == {"output": 9.0}
    assert price_per_mtok("unlisted", {"price_per_mtok": {"output": 2.0}}, models) == {"output": 2.0}
