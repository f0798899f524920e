"""The SFT export reader and the example format `harness sft` trains on (no training here: the demo
test trains for real)."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError
from harness.training.sft import examples, read_export

ROW = {"messages": [{"role": "user", "content": "Question: 2+2?"}, {"role": "assistant", "content": " 4. The answer is 4."}],
       "prompt_text": "Question: 2+2?\nAnswer:"}


def test_plain_and_chat_examples(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(ROW) + "\n\n")
    rows = read_export(path)
    assert examples(rows, chat=False) == [{"prompt": "Question: 2+2?\nAnswer:", "completion": " 4. The answer is 4."}]
    assert examples(rows, chat=True) == [{"prompt": ROW["messages"][:1], "completion": ROW["messages"][1:]}]


@pytest.mark.parametrize("text, msg", [
    ("{not json\n", "x.jsonl:1: not valid JSON"),
    ("\n[1]\n", "x.jsonl:2: expected a JSON object"),
    ("\n\n" + json.dumps({"messages": [{"role": "user", "content": "q"}, {"content": "a"}]}) + "\n", "x.jsonl:3: expected `messages`"),
    (json.dumps({"messages": [{"role": "user", "content": "q"}]}) + "\n", "ending with the assistant's"),
    ("\n", "holds no examples"),
])
def test_malformed_exports_are_named(tmp_path, text, msg):
    path = tmp_path / "x.jsonl"
    path.write_text(text)
    with pytest.raises(HarnessError, match=msg):
        read_export(path)


def test_missing_export_says_how_to_make_one(tmp_path):
    with pytest.raises(HarnessError, match="harness export-sft"):
        read_export(tmp_path / "nope.jsonl")
