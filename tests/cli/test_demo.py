"""`harness demo` end to end through the real parts: the committed demo models on the hf backend,
a DuckDB file, synth's variants, TRL fine-tuning, compare's statistics; shrunk (items, k, steps) so it
runs in seconds. The full-size numbers are the README's and the issue note's, not asserted here."""

from __future__ import annotations

import json
import tomllib

import pytest

from harness.cli.app import app
from harness.store import Store
from typer.testing import CliRunner

pytestmark = pytest.mark.slow

ARGS = ["demo", "--items", "24", "-k", "2", "--variants", "1", "--sft-steps", "3", "--replay", "20", "--augment", "2", "--json", "--no-progress"]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    runner = CliRunner()
    first = runner.invoke(app, ARGS + ["--out", str(folder)], catch_exceptions=False)
    second = runner.invoke(app, ARGS + ["--out", str(folder)], catch_exceptions=False)
    return folder, first, second


def test_json_has_the_issues_keys_with_fractions(demo_runs):
    folder, first, _ = demo_runs
    assert first.exit_code == 0, first.output
    r = json.loads(first.stdout)
    assert [m["name"] for m in r["models"]] == ["demo-small", "demo-large"]
    assert r["models"][0]["params"] < r["models"][1]["params"]
    for m in r["models"]:
        assert 0 <= m["maj_at_k"] <= 1
    assert set(r["compare"]) >= {"diff", "p_value"} and 0 <= r["compare"]["p_value"] <= 1
    assert r["compare"]["diff"] == pytest.approx(r["models"][1]["maj_at_k"] - r["models"][0]["maj_at_k"])
    assert set(r["teachable"]) >= {"queued", "exported"} and 0 < r["teachable"]["exported"] <= r["teachable"]["queued"]
    f = r["finetune"]
    assert set(f) >= {"heldout_items", "before", "after", "diff_ci_low", "diff_ci_high", "p_value", "control_after"}
    assert f["heldout_items"] > 0 and f["diff_ci_low"] <= f["after"] - f["before"] <= f["diff_ci_high"]
    assert all(0 <= f[x] <= 1 for x in ("before", "after", "control_after", "p_value"))
    assert r["seconds"] > 0 and r["generated"] > 0


def test_the_store_holds_every_stage(demo_runs):
    folder, first, _ = demo_runs
    r = json.loads(first.stdout)
    store = Store(folder / "demo.duckdb", read_only=True)
    names = {row["model_name"] for row in store.query("SELECT DISTINCT model_name FROM runs")}
    assert names == {"demo-small", "demo-large", "demo-small-sft", "demo-small-control"}
    exported = [json.loads(line)["item_id"] for line in (folder / "teachable.jsonl").read_text().splitlines()]
    assert len(exported) == r["teachable"]["exported"] == len(store.exported_item_ids("demo-small", "wordmath"))
    # held-out variants are new items of another task, never the exported items themselves
    variants = [json.loads(line) for line in (folder / "data" / "wordmath_variants.jsonl").read_text().splitlines()]
    assert variants and all(v["meta"]["parent"] in exported and v["id"] not in exported for v in variants)
    # the fine-tuned model's run of the original set flags the exported items it was trained on
    assert r["finetune"]["original_flagged"] == len(exported)
    models = tomllib.loads((folder / "models.toml").read_text())["models"]
    assert models["demo-small-sft"]["finetuned_from"] == "demo-small"
    assert (folder / "models" / "demo-small-sft" / "model.safetensors").is_file()
    info = json.loads((folder / "models" / "demo-small-sft" / "sft.json").read_text())
    train = [json.loads(line) for line in (folder / "teachable_train.jsonl").read_text().splitlines()]
    assert info["steps"] == 3 and info["examples"] == len(train) == r["finetune"]["train_examples"]["demo-small-sft"]
    assert [t["item_id"] for t in train[: len(exported)]] == exported  # the export itself, then its variants


def test_training_variants_are_verified_and_never_a_measured_item(demo_runs):
    from harness.tasks.wordmath import make_items, render

    folder, _, _ = demo_runs
    exported = {json.loads(line)["item_id"] for line in (folder / "teachable.jsonl").read_text().splitlines()}
    synth = [json.loads(line) for line in (folder / "teachable_train.jsonl").read_text().splitlines()
             if json.loads(line)["source"] == "synth"]
    assert synth and all(t["parent"] in exported for t in synth)
    assert len(synth) <= 2 * len(exported)
    held = [json.loads(line) for line in (folder / "data" / "wordmath_variants.jsonl").read_text().splitlines()]
    measured = {"Question: " + h["question"] + "\nAnswer:" for h in held} | {render(it).text for it in make_items("eval")}
    assert not measured & {t["prompt_text"] for t in synth}
    # every step of each variant's worked solution is right, and the last one is synth's gold
    import operator
    import re

    ops = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.floordiv}
    for t in synth:
        text = t["messages"][-1]["content"]
        steps = re.findall(r"(\d+) ([-+*/]) (\d+) = (\d+)", text)
        assert steps and all(ops[op](int(x), int(y)) == int(z) for x, op, y, z in steps), text
        assert steps[-1][3] == t["gold"] and text.endswith(f"The answer is {t['gold']}.")


def test_both_arms_rehearse_the_same_training_data_never_eval_items(demo_runs):
    from harness.tasks.wordmath import make_items, render

    folder, _, _ = demo_runs
    infos = [json.loads((folder / "models" / m / "sft.json").read_text()) for m in ("demo-small-sft", "demo-small-control")]
    assert infos[0]["mix_sha256"] == infos[1]["mix_sha256"] and infos[0]["mix_examples"] == 20
    replay = [json.loads(line) for line in (folder / "replay.jsonl").read_text().splitlines()]
    assert len(replay) == 20 and all(r["source"] == "replay" for r in replay)
    eval_prompts = {render(it).text for it in make_items("eval")}
    assert not eval_prompts & {r["prompt_text"] for r in replay}


def test_a_second_run_reuses_generations_and_weights(demo_runs):
    _, first, second = demo_runs
    assert second.exit_code == 0, second.output
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert b["generated"] == 0 and b["reused"] == a["generated"] + a["reused"]
    assert all(s == 0.0 for s in b["finetune"]["sft_seconds"].values())
    assert b["finetune"]["after"] == a["finetune"]["after"]
