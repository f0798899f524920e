"""The one SFT example line (`harness.sft_example`): written by teach and the demo, read by sft."""

from __future__ import annotations

import json

import pytest

from harness.errors import DataError
from harness.sft_example import SftExample, read_examples

# golden lines: (the example, its line exactly as written)
GOLDEN = [
    (SftExample.of("Q: 2+2?", "Q: 2+2?\nAnswer:", " 4", source="replay"),
     '{"messages": [{"role": "user", "content": "Q: 2+2?"}, {"role": "assistant", "content": " 4"}], '
     '"prompt_text": "Q: 2+2?\\nAnswer:", "source": "replay"}\n'),
    (SftExample(({"role": "system", "content": "Be brief."}, {"role": "user", "content": "ünï"},
                 {"role": "assistant", "content": "<think>x</think>5"}), None,
                task="t", item_id="7", source="teacher:70b", reason="teacher", model="phi"),
     '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "ünï"}, '
     '{"role": "assistant", "content": "<think>x</think>5"}], "prompt_text": null, "task": "t", "item_id": "7", '
     '"source": "teacher:70b", "reason": "teacher", "model": "phi"}\n'),
    (SftExample.of("q", "q", "a", task="wordmath", item_id="3~v1", gold="12", parent="3", source="synth",
                   reason="own_samples"),
     '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "prompt_text": "q", '
     '"task": "wordmath", "item_id": "3~v1", "gold": "12", "parent": "3", "source": "synth", "reason": "own_samples"}\n'),
]


@pytest.mark.parametrize("example, line", GOLDEN)
def test_an_example_is_one_line_and_reads_back_as_itself(tmp_path, example, line):
    assert example.line() == line
    path = tmp_path / "x.jsonl"
    path.write_text(line + "\n")
    assert read_examples(path) == [example]


def test_fields_outside_the_format_are_ignored_and_origin_values_read_as_text(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                                "prompt_text": 3, "item_id": 12, "extra": [1]}) + "\n")
    (e,) = read_examples(path)
    assert (e.prompt_text, e.item_id, e.task) == (None, "12", None)


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(DataError, match="harness export-sft"):
        read_examples(tmp_path / "nope.jsonl")
