"""The loop's DPO arms through the real parts (demo models, TRL's DPOTrainer, DuckDB), tiny: SFT then
DPO on pivotal pairs and on random-position pairs of the same samples, against SFT alone, on the
same test pool and seeds; the search reads the selection-pool run only; a rerun does nothing new."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.cli.demo import _params_b, demo_model_dir
from harness.cli.loop import story
from harness.data import Source
from harness.errors import HarnessError
from harness.lineage import read_lineage
from harness.loop.config import parse
from harness.loop.dpo import PIVOTAL, RANDOM, matched
from harness.loop.engine import _question_of, _user_text, run_loop
from harness.loop.pools import Pools, check_disjoint
from harness.models import ModelSpec
from harness.records import Item
from harness.store import Store
from harness.tasks import get_task


def _pools(question: str) -> Pools:
    task = get_task("wordmath")
    return Pools(task, (), task, (Item(id="7", fields={"question": question}, gold="3"),), Source())


def test_check_disjoint_reads_a_preference_pairs_prompt_without_its_prefix():
    q = "Tom has 2 apples and buys 1. How many now?"
    plain = json.dumps({"prompt": f"Question: {q}\nAnswer: He has", "prefix": " He has", "chosen": " 3",
                        "rejected": " 4"})
    chat = json.dumps({"prompt": [{"role": "user", "content": f"Question: {q}\nAnswer:"}], "prefix": " He",
                       "chosen": [{"role": "assistant", "content": " He 3"}],
                       "rejected": [{"role": "assistant", "content": " He 4"}]})
    for line in (plain, chat):
        assert _question_of(_user_text(line)) == q
        with pytest.raises(HarnessError, match="question of test item wordmath/7"):
            check_disjoint(set(), {_question_of(_user_text(line))}, [_pools(q)])


def test_matched_draws_as_many_pivotal_pairs_by_seed_in_order():
    lines = [{"i": j} for j in range(10)]
    four = matched(lines, 4, seed=0)
    assert len(four) == 4 and [x["i"] for x in four] == sorted(x["i"] for x in four)
    assert four == matched(lines, 4, seed=0) and matched(lines, 12, seed=0) == lines
    assert {tuple(x["i"] for x in matched(lines, 4, seed=s)) for s in range(5)} != {tuple(x["i"] for x in four)}


def _spec(size: str) -> ModelSpec:
    return ModelSpec(name=f"demo-{size}", backend="hf", model=str(demo_model_dir(size)),
                     params_b=_params_b(demo_model_dir(size)), sampling={"temperature": 0.8, "max_tokens": 64},
                     options={"batch_size": 64})


@pytest.mark.slow
def test_dpo_arms_start_from_sft_report_paired_gains_and_rerun_for_free(tmp_path, monkeypatch):
    cfg = parse({"name": "d", "student": "demo-small", "out": str(tmp_path / "out"), "k": 4, "seeds": [0, 1],
                 "arms": ["teachable"], "task": "wordmath", "task_args": {"n": 60}, "test_size": 12,
                 "recipe": {"steps": 2, "batch_size": 4},
                 "dpo": {"rollouts": 8, "band": [0.1, 0.9], "steps": 2, "batch_size": 2}})
    store = Store(tmp_path / "loop.duckdb")
    r = run_loop(cfg, store=store, student=_spec("small"), teacher=_spec("large"), progress=False)
    (ph,) = r["phases"]
    (test,) = ph["test_pools"]
    sel_run = ph["selection"]["runs"]["demo-small"]
    models = {(a["name"], a["seed"]): a for a in test["arms"]}
    assert set(models) == {(arm, s) for arm in ("teachable", PIVOTAL, RANDOM) for s in (0, 1)}

    # each DPO model starts from its seed's SFT model, trained on pairs from the selection-pool run only
    for s in (0, 1):
        for arm in (PIVOTAL, RANDOM):
            lin = read_lineage(tmp_path / "out" / "models" / models[(arm, s)]["model"])
            assert lin.method == "dpo" and lin.base.endswith(models[("teachable", s)]["model"]) and lin.seed == s
        piv = [json.loads(x) for x in open(models[(PIVOTAL, s)]["export"])]
        rnd = [json.loads(x) for x in open(models[(RANDOM, s)]["export"])]
        assert piv and len(rnd) == len(piv)  # as many pairs (the pivotal ones cut down where the control ran short)
        assert {x["source_run_id"] for x in piv + rnd} == {sel_run}
        searched = {(str(x["item_id"]), x["sample"]) for x in store.pivotal_prefixes(piv[0]["search_id"])}
        assert {(x["item_id"], x["sample"]) for x in rnd} <= searched
        assert not {(x["item_id"], x["sample"], x["position"]) for x in rnd} & \
            {(x["item_id"], x["sample"], x["position"]) for x in piv}
    (search,) = ph["dpo"]["searches"]
    assert search["source_run_id"] == sel_run and search["pairs"] > 0 and set(search["random"]) == {"0", "1"}
    assert all(u["pairs"] == search["random"][s]["pairs"] <= u["available"] for s, u in search["pivotal_used"].items())
    assert {s["source_run_id"] for s in store.pivotal_searches("demo-small")} == {sel_run}
    assert store.latest_run("demo-small", "wordmath") != sel_run  # the latest is the test pool's: never searched

    # gains with intervals: against the base, against SFT alone, pivotal against random
    pooled = {g["arm"]: g for g in ph["pooled"]}
    for arm in (PIVOTAL, RANDOM):
        g = pooled[arm]
        assert g["seeds"] == 2 and g["ci_low"] <= g["diff"] <= g["ci_high"] and g["items"] == 12
    versus = ph["dpo"]["versus"]["wordmath"]
    assert set(versus) == {f"{PIVOTAL} vs teachable", f"{RANDOM} vs teachable", f"{PIVOTAL} vs {RANDOM}"}
    for v in versus.values():
        assert v["ci_low"] <= v["diff"] <= v["ci_high"] and [x["seed"] for x in v["per_seed"]] == [0, 1]
    told = "\n".join(story(r))
    assert f"=> {PIVOTAL} vs teachable:" in told and f"=> {PIVOTAL} vs {RANDOM}:" in told and "DPO pairs:" in told
    rows = {(x["arm"], x["seed"]) for x in store.loop_arms(r["loop_id"])}
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
    from test_leaderboard_pages import app

    at = app(store.path, monkeypatch, "loop")
    shown = "".join(x.value for x in (*at.info, *at.success))
    assert f"{PIVOTAL} against teachable" in shown and f"{PIVOTAL} against {RANDOM}" in shown
    assert {PIVOTAL, RANDOM} <= set(at.dataframe[0].value["arm"])
    assert {(PIVOTAL, 0), (RANDOM, 1), ("teachable", 0), ("base", 0)} <= rows

    # a rerun searches, samples and trains nothing, and adds no run
    runs = len(store.runs())
    again = run_loop(cfg, store=store, student=_spec("small"), teacher=_spec("large"), progress=False)
    assert again["generated"] == 0 and len(store.runs()) == runs
    assert all(a["sft_reused"] for a in again["phases"][0]["test_pools"][0]["arms"])
    assert again["phases"][0]["dpo"]["searches"][0]["reused"]
    assert [g["diff"] for g in again["phases"][0]["pooled"]] == [g["diff"] for g in ph["pooled"]]
