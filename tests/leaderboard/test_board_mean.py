"""The board's mean when no task is shared by every model: each model's own mean, never all None."""

import pandas as pd

from harness.leaderboard.metrics import board


def test_mean_without_a_shared_task_is_each_models_own_and_ranks() -> None:
    rows = pd.DataFrame([
        {"model": "a", "task": "arith", "score": 0.2, "params_b": 1.0, "family": None, "finished_at": 1},
        {"model": "b", "task": "gsm8k", "score": 0.6, "params_b": 70.0, "family": None, "finished_at": 2},
    ])
    table, tasks = board(rows)
    assert tasks == ["arith", "gsm8k"]
    assert table["model"].tolist() == ["b", "a"] and table["mean"].tolist() == [0.6, 0.2]


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
