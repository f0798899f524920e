"""Pivotal tokens through the real parts: the committed small demo model on the hf backend, its own
tokenizer cutting the prefixes, the wordmath grader, a DuckDB file, TRL's DPOTrainer; from
`harness run` to `harness pivotal`, `harness export-dpo`, `harness dpo` and a run of the result."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.cli.demo import demo_model_dir
from harness.errors import HarnessError
from harness.store import Store

pytestmark = pytest.mark.slow

ITEMS = ["1", "16", "41", "97", "121", "145"]  # items the small model gets right only sometimes


def invoke(*args: str):
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (r.output, r.exception)
    return r


def test_run_pivotal_export_dpo_and_run_the_result(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    db, model = str(tmp_path / "p.duckdb"), f"hf:{demo_model_dir('small')}"
    sampling = ["--temperature", "0.8", "--max-tokens", "64"]
    invoke("run", "--model", model, "--task", "wordmath", "-k", "4", "--db", db, "--no-progress", *sampling)
    args = ["pivotal", "--model", model, "--task", "wordmath", "--items", ",".join(ITEMS), "--rollouts", "12",
            "--band", "0.05,0.95", "--db", db, "--json", "--no-progress", "--recheck-seed", "1"]
    found = json.loads(invoke(*args).stdout)
    assert found["pivotal"] == len(found["tokens"]) > 0
    assert found["generated"] > 0 and found["tokens_generated"] > 0 and found["rollouts_per_pivotal"] > 0
    assert found["recheck"]["n"] == found["pivotal"]
    assert found["params"]["split"] == "logprob"  # the hf backend scores the sample's tokens
    store = Store(db, read_only=True)
    texts = {(r["item_id"], r["sample"]): r["text"] for r in store.run_samples(found["source_run_id"], "wordmath")}
    for t in store.pivotal_tokens(search_id=found["search_id"]):
        # cut at the model's token boundaries: the token is a piece of the sample where the prefix ends
        assert texts[(t["item_id"], t["sample"])][len(t["prefix"]):].startswith(t["token"])

    again = json.loads(invoke(*args[:-2]).stdout)  # the same search again: everything is in the store
    assert again["generated"] == 0 and again["pivotal"] == found["pivotal"]

    pairs = tmp_path / "pairs.jsonl"
    invoke("export-dpo", "--model", model, "--out", str(pairs), "--db", db)
    lines = [json.loads(x) for x in pairs.read_text().splitlines()]
    assert lines
    prompts = {r["item_id"]: r for r in store.query("SELECT item_id FROM items WHERE task = 'wordmath'")}
    for line in lines:
        assert isinstance(line["prompt"], str)  # the demo model has no chat template: plain text
        assert line["prompt"].endswith("Answer:" + line["prefix"]) and line["item_id"] in prompts
        assert texts[(line["item_id"], line["sample"])].startswith(line["prefix"])
        assert line["chosen"] != line["rejected"] and line["model"] == model and line["n"] == 12

    out = tmp_path / "dpo"
    info = json.loads(invoke("dpo", "--model-dir", str(demo_model_dir("small")), "--data", str(pairs), "--out", str(out),
                             "--max-steps", "3", "--batch-size", "4", "--json", "--no-progress").stdout)
    assert info["steps"] == 3 and info["examples"] == len(lines) and info["pairs_sha256"]
    lineage = json.loads((out / "dpo.json").read_text())
    assert lineage["lineage"] == [{"model": model, "search_id": again["search_id"], "task": "wordmath"}]  # the newest search
    weights = json.loads((out / "lineage.json").read_text())  # as `harness sft` writes it: the store records it
    assert weights["method"] == "dpo" and {tuple(x) for x in weights["items"]} == {("wordmath", x["item_id"]) for x in lines}
    ran = json.loads(invoke("run", "--model", f"hf:{out}", "--task", "wordmath", "-k", "2", "--limit", "3", "--db", db,
                            "--json", "--no-progress", *sampling).stdout)
    assert ran["tasks"][0]["n_items"] == 3


def test_a_served_model_is_refused_for_want_of_token_boundaries(tmp_path):
    r = CliRunner().invoke(app, ["pivotal", "--model", "openai:m@http://127.0.0.1:9/v1", "--task", "wordmath",
                                 "--items", "1", "--db", str(tmp_path / "x.duckdb"), "--no-progress"])
    assert isinstance(r.exception, HarnessError) and "token boundaries" in str(r.exception)


def test_dpo_refuses_pairs_that_prefer_nothing(tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text(json.dumps({"prompt": "Q: 1+1?\nA:", "chosen": " 2", "rejected": " 2"}) + "\n")
    r = CliRunner().invoke(app, ["dpo", "--model-dir", str(demo_model_dir("small")), "--data", str(data),
                                 "--out", str(tmp_path / "o"), "--max-steps", "1", "--no-progress"])
    assert isinstance(r.exception, HarnessError) and "pairs.jsonl:1" in str(r.exception)
    assert not (tmp_path / "o").exists()


def test_hf_scores_each_token_of_a_sample():
    from harness.backends.hf import HFBackend
    from harness.backends.tokens import TokenSplitter
    from harness.models import ModelSpec
    from harness.records import Prompt

    backend = HFBackend(ModelSpec(name="s", backend="hf", model=str(demo_model_dir("small"))))
    prompt = Prompt("Question: Ana has 6 shells. Ana buys 2 more shells. How many shells does Ana have now?\nAnswer:")
    split = TokenSplitter(backend.tok)
    right, wrong = split.pieces(" Ana has 6 + 2 = 8 shells."), split.pieces(" Ana has 6 + 2 = 3 shells.")
    lp_right, lp_wrong = backend.token_logprobs(prompt, right), backend.token_logprobs(prompt, wrong)
    assert len(lp_right) == len(right) and all(x < 0 for x in lp_right)
    at = right.index("8")
    assert lp_right[:at] == pytest.approx(lp_wrong[:at])  # the same prefix, the same scores
    assert lp_right[at] > lp_wrong[at]  # the model that learnt addition prefers 8 to 3


def test_a_missing_store_is_an_error_and_stays_missing(tmp_path):
    db = tmp_path / "typo.duckdb"
    r = CliRunner().invoke(app, ["pivotal", "--model", f"hf:{demo_model_dir('small')}", "--task", "wordmath",
                                 "--db", str(db), "--no-progress"])
    assert isinstance(r.exception, HarnessError) and "no results store" in str(r.exception)
    assert not db.exists()
