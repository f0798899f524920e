"""`harness dpo` on pairs: the tokenization (prompt -> the token, nothing appended; a chat pair's shared
prefix on the prompt's side) and TRL training for real, full and LoRA, plain and chat."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from transformers import AutoTokenizer

from harness.errors import HarnessError
from harness.training.dpo import DpoConfig, read_pairs, tokenized, train_dpo


def chat_pair(prefix: str = "It is", chosen: str = " 4", rejected: str = " 5") -> dict:
    return {"prompt": [{"role": "user", "content": "2+2?"}],
            "chosen": [{"role": "assistant", "content": prefix + chosen}],
            "rejected": [{"role": "assistant", "content": prefix + rejected}], "prefix": prefix}


def test_plain_pairs_are_the_tokens_after_the_prompt_with_nothing_appended(tiny_model):
    tok = AutoTokenizer.from_pretrained(tiny_model)
    row = tokenized({"prompt": "Q: 2+2?\nA: It is", "chosen": " 4", "rejected": " 5"}, tok, chat=False)
    assert tok.decode(row["chosen_ids"]) == " 4" and tok.decode(row["rejected_ids"]) == " 5"
    assert tok.eos_token_id not in row["chosen_ids"] + row["rejected_ids"]
    assert tok.decode(row["prompt_ids"], skip_special_tokens=True) == "Q: 2+2?\nA: It is"


def test_chat_pairs_put_the_shared_prefix_in_the_prompt(tiny_model):
    tok = AutoTokenizer.from_pretrained(tiny_model)
    row = tokenized(chat_pair(), tok, chat=True)
    assert tok.decode(row["prompt_ids"]).endswith("<|user|>2+2?<|eos|><|assistant|>It is")  # no end of turn
    assert tok.decode(row["chosen_ids"]) == " 4" and tok.decode(row["rejected_ids"]) == " 5"
    with pytest.raises(HarnessError, match="prefix"):
        tokenized({**chat_pair(), "prefix": "Nope"}, tok, chat=True)


@pytest.mark.parametrize("line,message", [
    ('{"prompt": "a", "chosen": "b"}', "expected `prompt`, `chosen` and `rejected`"),
    ('{"prompt": "a", "chosen": [{"role": "assistant", "content": "b"}], "rejected": "c"}', "all text or all chat turns"),
    ('{"prompt": "a", "chosen": "b", "rejected": "b"}', "the same"),
    ("{oops", "not JSON"),
])
def test_malformed_pairs_are_named(tmp_path, line, message):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"prompt": "a", "chosen": "b", "rejected": "c"}) + "\n" + line + "\n")
    with pytest.raises(HarnessError, match=f"pairs.jsonl:2: .*{message}"):
        read_pairs(path)


def test_lora_without_peft_says_what_to_install(monkeypatch):
    from harness.training.recipe import lora

    monkeypatch.setitem(sys.modules, "peft", None)  # an import of peft now fails as if it were absent
    with pytest.raises(HarnessError, match=r"--lora-r 8 needs peft.*\[lora\]"):
        lora(8)
    assert lora(None) is None  # no LoRA asked: peft is not needed


@pytest.mark.parametrize("lora_r", [None, 4])
def test_dpo_trains_chat_pairs_and_writes_a_loadable_model(tiny_model, tmp_path, lora_r):
    from transformers import AutoModelForCausalLM

    if lora_r and importlib.util.find_spec("peft") is None:
        pytest.skip("peft is not installed (pip install -e '.[lora]'): LoRA training cannot run")

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({**chat_pair(chosen=c, rejected=r), "model": "tiny", "task": "t",
                                         "search_id": "s1"}) + "\n" for c, r in [(" 4", " 5"), (" 4", " 3"), (" 4", " 6")]))
    out = tmp_path / "dpo"
    info = train_dpo(tiny_model, pairs, out, DpoConfig(max_steps=2, batch_size=2, lora_r=lora_r), progress=False)
    assert info["steps"] == 2 and info["chat_template"] and info["examples"] == 3
    assert info["lineage"] == [{"model": "tiny", "search_id": "s1", "task": "t"}]
    assert json.loads((out / "dpo.json").read_text())["config"]["lora_r"] == lora_r
    assert not (out / "adapter_config.json").exists()  # LoRA merged: a plain model folder
    model = AutoModelForCausalLM.from_pretrained(out)
    assert model.config.use_cache
