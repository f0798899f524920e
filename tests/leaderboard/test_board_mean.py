"""The board ranks models only on tasks every listed model has (and says which), or shows no mean;
no cell reads None; sizes read in M or B. And Compare opens on a pair that shares items."""

import pandas as pd
import pytest

from harness.leaderboard.metrics import board, shared_tasks


def test_no_shared_task_means_no_mean() -> None:
    rows = pd.DataFrame([
        {"model": "a", "task": "arith", "score": 0.2, "params_b": 1.0, "family": None, "finished_at": 1},
        {"model": "b", "task": "gsm8k", "score": 0.6, "params_b": 70.0, "family": None, "finished_at": 2},
    ])
    table, tasks = board(rows)
    assert tasks == ["arith", "gsm8k"] and shared_tasks(rows) == []
    assert table["mean"].isna().all()


def test_the_mean_is_over_the_shared_tasks_only() -> None:
    rows = pd.DataFrame([  # the demo's shape: the base has both sets, the large one only the first
        {"model": "small", "task": "wordmath", "score": 0.362, "params_b": 0.0006, "family": None, "finished_at": 1},
        {"model": "small", "task": "wordmath_variants", "score": 0.219, "params_b": 0.0006, "family": None,
         "finished_at": 1},
        {"model": "large", "task": "wordmath", "score": 0.592, "params_b": 0.0011, "family": None, "finished_at": 2},
    ])
    table, _ = board(rows)
    assert shared_tasks(rows) == ["wordmath"]
    assert dict(zip(table["model"], table["mean"])) == {"large": 0.592, "small": 0.362}


def _seed(db, models) -> None:
    from factories import item_result, start_run, task_result
    from harness.store import Store

    store = Store(db)
    for name, size, tasks in models:
        run_id = start_run(store, name, k=2, tasks=list(tasks), params_b=size)
        for task, right in tasks.items():
            items = [item_result(run_id, task, str(i), correct=i < right, answer="1", share=1.0, pass_at_1=1.0, k=2)
                     for i in range(10)]
            store.put_results([], items, task_result(items, k=2))
        store.finish_run(run_id, "done")


@pytest.mark.parametrize("control, mean_shown", [(False, True), (True, False)])
def test_board_page_says_what_the_mean_is_over(tmp_path, monkeypatch, control, mean_shown) -> None:
    from test_leaderboard_pages import app, texts

    db = tmp_path / "r.duckdb"
    models = [("demo-small", 0.000585216, {"wordmath": 4, "wordmath_variants": 2}), ("demo-large", 0.0011, {"wordmath": 6})]
    if control:  # fine-tuned on its own: scored on the variants only, so no task is every model's
        models.append(("demo-control", 0.000585216, {"wordmath_variants": 3}))
    _seed(db, models)
    at = app(db, monkeypatch)
    table = at.dataframe[0].value
    assert ("mean maj@k" in [c for c in table.columns] or "mean" in table.columns) == mean_shown
    if mean_shown:
        assert dict(zip(table["model"], table["mean"])) == {"demo-large": "60.0", "demo-small": "40.0"}
        assert "mean over wordmath, the task(s) every listed model has" in texts(at)
    else:
        assert "no task is shared by every listed model, so no mean ranks them" in texts(at)
    assert dict(zip(table["model"], table["size"]))["demo-small"] == "0.59M"
    assert dict(zip(table["model"], table["size"]))["demo-large"] == "1.1M"
    for frame in at.dataframe:
        values = frame.value.astype(str).to_numpy().ravel().tolist()
        assert "None" not in values and "nan" not in values


def test_compare_opens_on_the_pair_that_shares_items(tmp_path, monkeypatch) -> None:
    """Smallest and largest share no task: Compare opens on a pair that does, not on an empty page."""
    from factories import item_result, start_run, task_result
    from streamlit.testing.v1 import AppTest

    from harness.leaderboard import APP_PATH
    from harness.store import Store

    db = tmp_path / "r.duckdb"
    store = Store(db)
    for name, size, task in (("tiny", 0.1, "gsm8k"), ("mid", 7.0, "arith"), ("big", 70.0, "arith")):
        run_id = start_run(store, name, k=2, tasks=[task], params_b=size)
        items = [item_result(run_id, task, str(i), correct=i % 2 == 0, answer="1", share=1.0, pass_at_1=1.0, k=2)
                 for i in range(10)]
        store.put_results([], items, task_result(items, k=2))
        store.finish_run(run_id, "done")
    monkeypatch.setenv("HARNESS_DB", str(db))
    at = AppTest.from_file(str(APP_PATH), default_timeout=60)
    at.run()
    at.switch_page("views/compare.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert (at.selectbox(key="cmp_a").value, at.selectbox(key="cmp_b").value) == ("mid", "big")
    assert not any("no task with items in common" in w.value for w in at.warning)
