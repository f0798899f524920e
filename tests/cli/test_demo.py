"""`harness demo` (the loop on the embedded config) end to end through the real parts: the committed demo
models on the hf backend, a DuckDB file, synth's variants, TRL fine-tuning, the paired statistics;
shrunk (pool, k, seeds, steps) so it runs in a minute. The full-size numbers are the README's and the
issue note's, not asserted here."""

from __future__ import annotations

import json
import operator
import re
import tomllib

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.lineage import read_lineage
from harness.store import Store

pytestmark = pytest.mark.slow

ARGS = ["demo", "--pool", "64", "--test-items", "24", "-k", "2", "--seeds", "2", "--sft-steps", "3", "--replay", "20",
        "--augment", "2", "--json", "--no-progress"]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    runner = CliRunner()
    first = runner.invoke(app, ARGS + ["--out", str(folder)], catch_exceptions=False)
    runs_after_first = len(Store(folder / "demo.duckdb", read_only=True).runs())
    second = runner.invoke(app, ARGS + ["--out", str(folder)], catch_exceptions=False)
    return folder, first, second, runs_after_first


def test_json_keeps_the_old_keys_and_adds_the_loops(demo_runs):
    folder, first, _, _ = demo_runs
    assert first.exit_code == 0, first.output
    r = json.loads(first.stdout)
    assert [m["name"] for m in r["models"]] == ["demo-small", "demo-large"]
    assert r["models"][0]["params"] < r["models"][1]["params"]
    assert r["compare"]["diff"] == pytest.approx(r["models"][1]["maj_at_k"] - r["models"][0]["maj_at_k"])
    assert 0 < r["teachable"]["exported"] <= r["teachable"]["queued"]
    f = r["finetune"]
    assert f["heldout_items"] == 24 and f["diff_ci_low"] <= f["after"] - f["before"] <= f["diff_ci_high"]
    assert all(0 <= f[x] <= 1 for x in ("before", "after", "control_after", "p_value"))
    assert r["test_pool"] == {"task": "wordmath", "items": 24, "disjoint": True, "selection_items": 40}
    assert sorted((a["name"], a["seed"]) for a in r["arms"]) == [("random", 0), ("random", 1), ("teachable", 0), ("teachable", 1)]
    for a in r["arms"]:
        t = a["test_pool"]
        assert t["ci_low"] <= t["diff"] <= t["ci_high"] and t["diff"] == pytest.approx(t["after"] - t["before"])
    v = r["teachable_vs_random"]
    assert v["seeds"] == 2 and v["ci_low"] <= v["diff"] <= v["ci_high"] and 0 < v["p_value"] <= 1
    assert r["seconds"] > 0 and r["generated"] > 0


def test_arms_get_the_same_size_and_never_a_test_item(demo_runs):
    folder, first, _, _ = demo_runs
    r = json.loads(first.stdout)
    sizes = {a["items"] for a in r["arms"]}
    assert len(sizes) == 1  # random draws as many as teachable picks
    store = Store(folder / "demo.duckdb", read_only=True)
    base_test = {row["run_id"] for row in store.query("SELECT base_run_id AS run_id FROM loop_arms WHERE arm <> 'base'")}
    (base_run,) = base_test
    test_ids = {str(row["item_id"]) for row in store.item_results(base_run, ["wordmath"])}
    assert len(test_ids) == 24
    for a in r["arms"]:
        lineage = read_lineage(folder / "models" / a["model"])
        assert lineage is not None and lineage.method == "sft" and lineage.seed == a["seed"]
        trained = {i for t, i in lineage.items if t == "wordmath"}
        assert trained and not trained & test_ids
        assert a["flagged_on_test_pool"] == 0


def test_contamination_follows_the_weights(demo_runs):
    folder, first, _, _ = demo_runs
    r = json.loads(first.stdout)
    store = Store(folder / "demo.duckdb", read_only=True)
    rows = store.query("""SELECT r.model_name, t.possibly_contaminated AS flagged FROM runs r JOIN task_results t USING (run_id)""")
    assert {x["flagged"] for x in rows if x["model_name"] in ("demo-small", "demo-large")} == {0}
    # the first teachable model on the selection pool: flagged on exactly the items it trained on
    assert r["finetune"]["original_flagged"] > 0 and r["finetune"]["original_flagged_are_trained"] is True


def test_training_variants_are_verified_and_never_a_pool_question(demo_runs):
    from harness.tasks.wordmath import make_items, render

    folder, _, _, _ = demo_runs
    train = [json.loads(line) for line in (folder / "phase1" / "teachable-s0.train.jsonl").read_text().splitlines()]
    exported = {t["item_id"] for t in train if t["source"] != "synth"}
    synth = [t for t in train if t["source"] == "synth"]
    assert synth and all(t["parent"] in exported for t in synth) and len(synth) <= 2 * len(exported)
    pool_prompts = {render(it).text for it in make_items("eval", 64)}
    assert not pool_prompts & {t["prompt_text"] for t in synth}
    ops = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.floordiv}
    for t in synth:
        text = t["messages"][-1]["content"]
        steps = re.findall(r"(\d+) ([-+*/]) (\d+) = (\d+)", text)
        assert steps and all(ops[op](int(x), int(y)) == int(z) for x, op, y, z in steps), text
        assert steps[-1][3] == t["gold"] and text.endswith(f"The answer is {t['gold']}.")


def test_every_arm_rehearses_the_same_mix(demo_runs):
    folder, first, _, _ = demo_runs
    r = json.loads(first.stdout)
    infos = [json.loads((folder / "models" / a["model"] / "sft.json").read_text()) for a in r["arms"]]
    assert len({i["mix_sha256"] for i in infos}) == 1 and {i["mix_examples"] for i in infos} == {20}
    assert {i["steps"] for i in infos} == {3}


def test_models_file_holds_absolute_paths(demo_runs, tmp_path, monkeypatch):
    folder, first, _, _ = demo_runs
    r = json.loads(first.stdout)
    models = tomllib.loads((folder / "models.toml").read_text())["models"]
    tuned = [a["model"] for a in r["arms"]]
    assert set(tuned) <= set(models)
    monkeypatch.chdir(tmp_path)  # read from another folder, as a user would
    from harness.models import resolve

    spec = resolve(tuned[0], folder / "models.toml")
    assert (spec.model.startswith("/")) and (folder / "models" / tuned[0] / "model.safetensors").is_file()
    assert spec.finetuned_from == "demo-small"


def test_a_second_run_generates_trains_and_records_nothing_new(demo_runs):
    folder, first, second, runs_after_first = demo_runs
    assert second.exit_code == 0, second.output
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert b["generated"] == 0 and b["reused"] == a["generated"] + a["reused"]
    assert all(s == 0.0 for s in b["finetune"]["sft_seconds"].values())
    assert b["teachable_vs_random"] == a["teachable_vs_random"]
    assert len(Store(folder / "demo.duckdb", read_only=True).runs()) == runs_after_first


def test_the_loop_page_shows_arms_seeds_and_lineage(demo_runs, monkeypatch):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
    from test_leaderboard_pages import app, charts, texts

    folder, first, _, _ = demo_runs
    r = json.loads(first.stdout)
    at = app(folder / "demo.duckdb", monkeypatch, "loop")
    assert at.selectbox(key="loop_pick").value == r["loop_id"] and dict(at.query_params) == {"loop": r["loop_id"]}
    assert "Test pool: 24 wordmath items no arm chose" in texts(at) or any(
        "Test pool: 24 wordmath items" in h.value for h in at.subheader)
    assert "Teachable against random" in texts(at) + "".join(s.value for s in at.success)
    assert charts(at) == 1
    pooled, per_seed = at.dataframe[0].value, at.dataframe[1].value
    assert pooled["arm"].tolist() == ["base", "teachable", "random"]  # in the config's order of arms
    assert sorted(zip(per_seed["arm"], per_seed["seed"])) == [("random", 0), ("random", 1), ("teachable", 0), ("teachable", 1)]
    assert (per_seed["n_trained"] >= per_seed["n_train"]).all()  # items picked, and their variants' parents
    assert all(link.startswith("items?task=wordmath&models=") for link in per_seed["items"])


def test_small_vs_large_and_compare_pages_flag_the_tuned_model_only(demo_runs, monkeypatch):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
    from test_leaderboard_pages import app

    folder, first, _, _ = demo_runs
    r = json.loads(first.stdout)
    tuned = next(a["model"] for a in r["arms"] if a["name"] == "teachable" and a["seed"] == 0)
    at = app(folder / "demo.duckdb", monkeypatch, "size")
    warnings = " ".join(w.value for w in at.warning)
    assert f"`{tuned}` on {r['finetune']['original_flagged']} of 40 items" in warnings
    assert "`demo-small` on" not in warnings and "`demo-large` on" not in warnings
    at = app(folder / "demo.duckdb", monkeypatch, "compare", a=tuned, b="demo-large")  # both on the selection pool
    warnings = " ".join(w.value for w in at.warning)
    assert f"`{tuned}` was trained on {r['finetune']['original_flagged']} of the 40 wordmath items compared" in warnings
    assert "`demo-large` was trained" not in warnings
