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
