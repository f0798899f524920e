"""The real HumanEval and MBPP files: every canonical solution passes in the sandbox, known-wrong
programs fail with details, item ids are the datasets' own, and the vote's examples come from the
prompt the model sees, never from the hidden tests."""

from __future__ import annotations

import pytest

from harness.data import Source
from harness.grading.code.grade import CodeGrader
from harness.grading.code.extract import example_calls
from harness.grading.code.limits import ReferenceTimes
from harness.tasks import get_task


@pytest.fixture(scope="module")
def limits_file(tmp_path_factory):
    return tmp_path_factory.mktemp("limits") / "code_time_limits.json"


def load(name, shared_data, limit=None):
    return get_task(name).load(Source(shared_data, limit))


def grade_all(name, items, responses, limits_file):
    grader = CodeGrader(name, times=ReferenceTimes(limits_file))
    try:
        return [row[0] for row in grader.grade([(it, [r]) for it, r in zip(items, responses)])]
    finally:
        grader.close()


@pytest.mark.slow
def test_humaneval_canonical_all_pass_and_wrong_all_fail(shared_data, limits_file):
    items = load("humaneval", shared_data)
    assert len(items) == 164 and items[0].id == "HumanEval/0" and items[-1].id == "HumanEval/163"
    grades = grade_all("humaneval", items, [it.gold for it in items], limits_file)
    failed = [(it.id, g.detail) for it, g in zip(items, grades) if g.verdict != "correct"]
    assert failed == [], failed
    wrong = grade_all("humaneval", items, [it.fields["prompt_code"] + "    return None\n" for it in items], limits_file)
    assert [g.verdict for g in wrong].count("correct") == 0
    assert all(g.verdict == "incorrect" and ("failed " in g.detail or "crash" in g.detail) for g in wrong)


@pytest.mark.slow
def test_mbpp_sanitized_canonical_all_pass_and_wrong_all_fail(shared_data, limits_file):
    items = load("mbpp", shared_data)
    assert len(items) == 257 and {it.id for it in items} >= {"11", "12"}
    grades = grade_all("mbpp", items, [it.gold for it in items], limits_file)
    failed = [(it.id, g.detail) for it, g in zip(items, grades) if g.verdict != "correct"]
    assert failed == [], failed
    wrong = [f"```python\ndef {it.fields['entry_point']}(*args, **kwargs):\n    return None\n```" for it in items]
    grades = grade_all("mbpp", items, wrong, limits_file)
    assert [g.verdict for g in grades].count("correct") == 0


@pytest.mark.slow
def test_mbpp_full_canonical_sample_passes(shared_data, limits_file):
    items = load("mbpp_full", shared_data, limit=60)
    assert len(items) == 60 and items[0].id == "11"
    grades = grade_all("mbpp_full", items, [it.gold for it in items], limits_file)
    assert [(it.id, g.detail) for it, g in zip(items, grades) if g.verdict != "correct"] == []


@pytest.mark.parametrize("name", ["humaneval", "mbpp", "mbpp_full"])
def test_prompts_and_examples(shared_data, name):
    task = get_task(name)
    items = load(name, shared_data)
    with_examples = 0
    for item in items:
        prompt = task.render(item)
        assert prompt.messages is not None and "```" in prompt.messages[-1].content
        entry = item.fields["entry_point"]
        # The examples are exactly the calls written in what the model is shown (base and chat form).
        assert example_calls(prompt.text, entry) == item.fields["examples"]
        for call in item.fields["examples"]:
            assert call in example_calls(prompt.messages[-1].content, entry)
        with_examples += bool(item.fields["examples"])
    if name == "humaneval":
        assert with_examples >= 130
        assert task.render(items[0]).text == items[0].fields["prompt_code"]
    else:
        assert with_examples >= len(items) - 2


def test_mbpp_limit_counts_test_items(shared_data):
    items = load("mbpp", shared_data, limit=5)
    assert [it.id for it in items] == ["11", "12", "14", "16", "17"]
