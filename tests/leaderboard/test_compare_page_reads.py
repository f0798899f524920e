"""The Compare page reads like the CLI: it opens on small vs large (the pair furthest apart in size
that shares items), every number rounded by the one rule the CLI and the story use, each item's
samples link beside the item, and the difference chart's axis running past 0 on both sides."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.analysis import numbers
from harness.leaderboard.charts import difference_domain
from test_leaderboard_pages import app

# The demo's shape: the base and its fine-tuned copies share the base's size; the control was scored
# on the variants only. 87 of 240 right: 36.25 points, which Python rounds to 36.2 and the browser to 36.3.
MODELS = [("demo-small", 0.000585216, {"wordmath": 87, "wordmath_variants": 51}),
          ("demo-small-sft", 0.000585216, {"wordmath": 104, "wordmath_variants": 97}),
          ("demo-control", 0.000585216, {"wordmath_variants": 70}),
          ("demo-large", 0.0011, {"wordmath": 142})]
SIZES = {"wordmath": 240, "wordmath_variants": 233}


@pytest.fixture(scope="module")
def demo_like(tmp_path_factory):
    from factories import item_result, start_run, task_result
    from harness.store import Store

    db = tmp_path_factory.mktemp("cmp") / "r.duckdb"
    store = Store(db)
    for name, size, tasks in MODELS:
        run_id = start_run(store, name, k=4, tasks=list(tasks), params_b=size)
        for task, right in tasks.items():
            items = [item_result(run_id, task, str(i), correct=i < right, answer="1", share=1.0, pass_at_1=1.0, k=4)
                     for i in range(SIZES[task])]
            store.put_results([], items, task_result(items, k=4))
        store.finish_run(run_id, "done")
    return db


def test_compare_opens_on_small_vs_large_with_the_clis_numbers(demo_like, monkeypatch):
    at = app(demo_like, monkeypatch, "compare")
    assert (at.selectbox(key="cmp_a").value, at.selectbox(key="cmp_b").value) == ("demo-small", "demo-large")
    head = {m.label: m.value for m in at.metric}
    assert head["demo-small maj@k"] == numbers.pct(87 / 240) == "36.2"
    table = at.dataframe[0].value
    overall = table.set_index("task").loc["overall"]
    assert overall["demo-small"] == 36.2  # the value the browser formats: rounded in Python already
    assert f"{overall['diff']:+.1f}" == head["demo-small − demo-large (points)"]
    for frame in at.dataframe[2:]:  # the items each one wins: the link beside the item
        assert list(frame.value.columns[:3]) == ["task", "item", "samples"]


def test_the_difference_axis_runs_past_zero(demo_like, monkeypatch):
    rows = pd.DataFrame({"task": ["t"], "diff": [-20.0], "low": [-30.0], "high": [0.0]})
    lo, hi = difference_domain(rows)
    assert lo < -30 and hi > 0
    lo, hi = difference_domain(pd.DataFrame({"task": ["t"], "diff": [5.0], "low": [0.0], "high": [12.0]}))
    assert lo < 0 and hi > 12
    at = app(demo_like, monkeypatch, "compare")
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    domains = [layer["encoding"]["x"]["scale"]["domain"] for layer in spec.get("layer", [])
               if "scale" in layer.get("encoding", {}).get("x", {})]
    assert domains and domains[0][1] > 0 and domains[0][0] < min(table_low(at), 0)


def table_low(at) -> float:
    return float(at.dataframe[0].value["diff low"].min())
