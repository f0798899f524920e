"""Two phases through the real parts (demo models, TRL, DuckDB): phase 2 starts each arm from its own
phase-1 model, its lineage includes phase 1's items, and every test pool is measured after every phase."""

from __future__ import annotations

import pytest

from harness.cli.demo import demo_model_dir, _params_b
from harness.lineage import read_lineage
from harness.loop.config import parse
from harness.loop.engine import run_loop
from harness.models import ModelSpec, load_models
from harness.store import Store

pytestmark = pytest.mark.slow


def test_two_phases_chain_models_and_measure_every_pool(tmp_path):
    phase = {"task": "wordmath", "task_args": {"n": 48}, "test_size": 16, "split_seed": 0, "augment": 1}
    cfg = parse({"name": "two", "student": "demo-small", "out": str(tmp_path / "out"), "k": 1, "seeds": [0],
                 "arms": ["teachable", "random"], "phases": [phase, phase], "recipe": {"steps": 1, "batch_size": 4}})
    spec = lambda size: ModelSpec(name=f"demo-{size}", backend="hf", model=str(demo_model_dir(size)),  # noqa: E731
                                  params_b=_params_b(demo_model_dir(size)), sampling={"temperature": 0.8, "max_tokens": 64},
                                  options={"batch_size": 64})
    store = Store(tmp_path / "loop.duckdb")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "models.toml").write_text('[models.other]\nbackend = "hf"\nmodel = "/elsewhere/other"\n')
    r = run_loop(cfg, store=store, student=spec("small"), teacher=spec("large"), progress=False)
    p1, p2 = r["phases"]
    names = {ph["phase"]: {a["name"]: a["model"] for a in ph["test_pools"][0]["arms"]} for ph in (p1, p2)}
    assert names[1] == {"teachable": "demo-small-two-p1-teachable-s0", "random": "demo-small-two-p1-random-s0"}
    assert names[2] == {"teachable": "demo-small-two-p2-teachable-s0", "random": "demo-small-two-p2-random-s0"}
    for arm in ("teachable", "random"):
        l1 = read_lineage(tmp_path / "out" / "models" / names[1][arm])
        l2 = read_lineage(tmp_path / "out" / "models" / names[2][arm])
        assert l2.base.endswith(names[1][arm])  # phase 2 starts from this arm's phase-1 model
        assert set(l1.items) <= set(l2.items)  # and its weights remember phase 1's items
    # phase 2 selected with each phase-1 model, on the same selection pool
    assert set(p2["selection"]["runs"]) == set(names[1].values())
    assert [t["task"] for t in p1["test_pools"]] == [t["task"] for t in p2["test_pools"]] == ["wordmath"]  # one pool, measured after each phase
    # the models file in `out` gains the loop's models and keeps what another loop (or the user) put there
    written = load_models(r["models_file"])
    assert written["other"].model == "/elsewhere/other"
    assert set(names[1].values()) | set(names[2].values()) | {"demo-small", "demo-large"} <= set(written)
    rows = store.loop_arms(r["loop_id"])
    assert {(x["phase"], x["arm"]) for x in rows} >= {(1, "teachable"), (2, "teachable"), (1, "base"), (2, "base")}
