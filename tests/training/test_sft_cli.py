"""`harness sft` through the CLI on the committed small demo model: TRL trains for real (two steps),
the rehearsal mix is shuffled in, the result is a model folder the hf backend loads and runs."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.cli.demo import demo_model_dir
from harness.errors import HarnessError
from harness.models import load_models

pytestmark = pytest.mark.slow


def _line(q: str, a: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": f"Question: {q}"}, {"role": "assistant", "content": f" {a}"}],
                       "prompt_text": f"Question: {q}\nAnswer:"}) + "\n"


def test_sft_with_a_mix_trains_and_writes_a_loadable_model(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    data, mix, out = tmp_path / "export.jsonl", tmp_path / "mix.jsonl", tmp_path / "tuned"
    data.write_text(_line("Ana has 3 apples and buys 4 more. How many apples does Ana have now?", "Ana has 3 + 4 = 7 apples. The answer is 7.") * 3)
    mix.write_text(_line("Compute: 2*3.", "2 * 3 = 6. The answer is 6.") * 5)
    r = CliRunner().invoke(app, ["sft", "--model-dir", str(demo_model_dir("small")), "--data", str(data), "--mix", str(mix),
                                 "--out", str(out), "--max-steps", "2", "--batch-size", "4", "--json", "--no-progress"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert (info["examples"], info["mix_examples"], info["steps"]) == (3, 5, 2)
    assert info["mix_sha256"] and info["first_loss"] is not None
    assert f'model = "{out.resolve()}"' in info["models_entry"]
    (tmp_path / "models.toml").write_text(info["models_entry"])  # the entry reads back as a models file
    assert load_models(tmp_path / "models.toml")["tuned"].model == str(out.resolve())
    assert json.loads((out / "sft.json").read_text())["mix_examples"] == 5
    model, tok = AutoModelForCausalLM.from_pretrained(out), AutoTokenizer.from_pretrained(out)
    ids = tok("Question: Compute: 2*3.\nAnswer:", return_tensors="pt", add_special_tokens=False)
    assert model.generate(**ids, max_new_tokens=4, do_sample=False).shape[1] > ids["input_ids"].shape[1]


def test_a_malformed_mix_is_named_and_nothing_is_written(tmp_path):
    data, mix, out = tmp_path / "export.jsonl", tmp_path / "mix.jsonl", tmp_path / "tuned"
    data.write_text(_line("q?", "a. The answer is 1."))
    mix.write_text("{broken\n")
    r = CliRunner().invoke(app, ["sft", "--model-dir", str(demo_model_dir("small")), "--data", str(data), "--mix", str(mix),
                                 "--out", str(out), "--max-steps", "1", "--no-progress"])
    # a HarnessError, which `harness`'s entry point prints on one line with exit status 2
    assert isinstance(r.exception, HarnessError) and "mix.jsonl:1: not valid JSON" in str(r.exception)
    assert not out.exists()
