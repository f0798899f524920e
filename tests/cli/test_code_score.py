"""Scoring code generations from a file: `harness score --task humaneval IN.jsonl`, the generic `code`
kind, and the grouped scorer with pass@k and the behavioural maj@k."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from harness.cli.score import grouped, score_rows, summarize, summary_text

GOOD_0 = ("    for i, a in enumerate(numbers):\n        for b in numbers[i + 1:]:\n"
          "            if abs(a - b) < threshold:\n                return True\n    return False\n")
ROWS = [
    {"item_id": "HumanEval/0", "sample": 0, "response": GOOD_0},
    {"item_id": "HumanEval/0", "sample": 1, "response": "```python\ndef has_close_elements(numbers, threshold):\n    return False\n```"},
    {"item_id": "HumanEval/0", "sample": 2, "response": "```python\ndef has_close_elements(numbers, threshold):\n    return False  # again\n```"},
    {"item_id": "HumanEval/2", "sample": 0, "response": "    return number % 1.0\n"},
    {"item_id": "HumanEval/2", "sample": 1, "response": "    while True:\n        pass\n"},
    {"item_id": "HumanEval/2", "sample": 2, "response": "no idea"},
]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.slow
def test_grouped_scoring_with_pass_at_k_and_behavioural_vote(shared_data):
    from harness.data import Source

    grades = score_rows(ROWS, "humaneval", source=Source(shared_data))
    verdicts = [g.verdict for g in grades]
    assert verdicts == ["correct", "incorrect", "incorrect", "correct", "timeout", "unparseable"]
    assert grades[1].cls == grades[2].cls != grades[0].cls
    assert "failed case (tests line" in grades[1].detail
    s = summarize(grouped(ROWS, grades))
    assert s["items"] == 2 and s["lines"] == 6
    assert s["pass_at_k"][1] == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert s["pass_at_k"][3] == 1.0
    # HumanEval/0: two wrong samples behave alike and outvote the right one; HumanEval/2: one voter.
    assert s["maj_at_k"] == 0.5
    assert "pass@3 100.0%" in summary_text(s)


@pytest.mark.slow
def test_score_command_humaneval(shared_data, tmp_path):
    from harness.cli.app import app

    infile = tmp_path / "in.jsonl"
    infile.write_text("".join(json.dumps(r) + "\n" for r in ROWS[:2]))
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(app, ["score", "--task", "humaneval", str(infile), "--out", str(out),
                                   "--data-dir", str(shared_data)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [ln["verdict"] for ln in lines] == ["correct", "incorrect"]
    assert lines[0]["extracted"].startswith("from typing import List")
    assert "failed case (tests line" in lines[1]["detail"]


def test_score_generic_code_lines(tmp_path):
    from harness.cli.score import score_rows

    tests = "assert double(2) == 4\nassert double(0) == 0\n"
    rows = [
        {"gold": "def double(x):\n    return 2 * x\n", "entry_point": "double", "tests": tests,
         "response": "```python\ndef double(x):\n    return x + x\n```"},
        {"gold": "def double(x):\n    return 2 * x\n", "entry_point": "double", "tests": tests,
         "response": "```python\ndef double(x):\n    return x ** 3\n```"},
    ]
    grades = score_rows(rows, "code")
    assert [g.verdict for g in grades] == ["correct", "incorrect"]
    assert "failed case (tests line 1): double(2) returned 8, expected 4" in grades[1].detail
    assert "check: split, 2 cases compared outside the program" in grades[1].detail


def test_unknown_item_is_reported_with_its_line(shared_data):
    from harness.data import Source
    from harness.errors import DataError

    with pytest.raises(DataError, match=r"input:1: .*no item 'HumanEval/999'"):
        score_rows([{"item_id": "HumanEval/999", "response": "x"}], "humaneval", source=Source(shared_data))
