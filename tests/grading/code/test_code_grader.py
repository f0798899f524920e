"""CodeGrader: verdicts, failure details, calibrated time limits, and the behavioural majority vote."""

from __future__ import annotations

import pytest

from harness.grading.code.grade import CodeGrader
from harness.grading.code.extract import example_calls
from harness.grading.code.limits import ReferenceTimes, TimePolicy
from harness.records import Item
from harness.sandbox import Limits, Sandbox
from harness.vote import vote

PROMPT = 'def add(xs):\n    """Sum of xs.\n    >>> add([1, 2])\n    3\n    >>> add([])\n    0\n    """\n'


def make_item(reference_body: str = "    return sum(xs)\n", item_id: str = "t/0", prompt: str = PROMPT) -> Item:
    return Item(
        id=item_id,
        gold=prompt + reference_body,
        fields={
            "prompt_code": prompt,
            "preamble": prompt,
            "entry_point": "add",
            "tests": "def check(candidate):\n    assert candidate([1, 2]) == 3\n    assert candidate([5, 5, 5]) == 15\n\ncheck(add)\n",
            "examples": example_calls(prompt, "add"),
        },
    )


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(Limits(timeout_s=5.0)) as sb:
        yield sb


@pytest.fixture
def grader(sandbox, tmp_path):
    g = CodeGrader("test", sandbox=sandbox, policy=TimePolicy(multiple=10, floor_s=1.0, fallback_s=3.0),
                   times=ReferenceTimes(tmp_path / "limits.json"))
    yield g
    g.close()


RESPONSES = [
    # (response, verdict, text in detail)
    ("    return sum(xs)\n", "correct", "passed"),
    ("```python\ndef add(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n```", "correct", "fenced answer"),
    ("    return len(xs)\n", "incorrect", "failed case (tests line 2): add([1, 2]) returned 2, expected 3"),
    ("    return xs[0] + xs[1]\n", "incorrect", "failed case (tests line 3): add([5, 5, 5]) returned 10, expected 15"),
    ("    return sum(xs) / 0\n", "incorrect", "failed case (tests line 2): add([1, 2]) raised ZeroDivisionError"),
    ("    while True:\n        pass\n", "timeout", "timeout"),
    ("I do not know.", "unparseable", "unparseable: the continuation does not parse"),
    ("```python\ndef add(xs)\n    return 1\n```", "unparseable", "syntax error"),
    ("    import sys\n    sys.exit(0)\n", "incorrect", "add([1, 2]) raised SystemExit"),
]


@pytest.mark.slow
def test_verdicts_and_details(grader):
    item = make_item()
    results = grader.results([(item, [r for r, _, _ in RESPONSES])])[0]
    for (response, verdict, text), res in zip(RESPONSES, results):
        assert res.grade.verdict == verdict, (response, res.grade.detail)
        assert text in res.grade.detail, (response, res.grade.detail)
    assert results[0].grade.extracted == PROMPT + "    return sum(xs)\n", "the program that ran is stored"
    assert "(10 x reference" in results[0].grade.detail and "floor 1 s)" in results[0].grade.detail


@pytest.mark.slow
def test_behavioural_vote_groups_equivalent_programs(grader):
    item = make_item()
    responses = [
        "    return len(xs)\n",  # wrong: 2, 0
        "    return sum(xs)\n",  # right: 3, 0
        "```python\ndef add(xs):\n    out = 0\n    for x in xs:\n        out = out + x\n    return out\n```",  # right, other code
        "```python\nfrom functools import reduce\ndef add(xs):\n    return reduce(lambda a, b: a + b, xs, 0)\n```",  # right
        "    return 7 if xs else 0\n",  # wrong, and unlike the others on the examples too
        "garbage that does not parse (",
        "    while True:\n        pass\n",
    ]
    grades = grader.grade([(item, responses)])[0]
    classes = [g.cls for g in grades]
    assert classes[1] == classes[2] == classes[3]
    assert len({classes[0], classes[1], classes[4]}) == 3
    assert classes[5] is None and classes[6] is None, "unparseable and timed-out samples do not vote"
    assert grades[1].canonical == "3\n0"
    v = vote(grades)
    assert v.winner == 1 and v.maj_correct and v.n_classes == 3 and v.n_timeout == 1 and v.n_unparseable == 1


def test_vote_picks_wrong_majority_without_looking_at_tests(grader):
    item = make_item()
    responses = ["    return len(xs)\n", "    return len(xs) + 0\n", "    return sum(xs)\n"]
    grades = grader.grade([(item, responses)])[0]
    assert grades[0].cls == grades[1].cls != grades[2].cls
    v = vote(grades)
    assert not v.maj_correct and v.n_correct == 1


def test_behaviour_equal_on_examples_is_one_class_even_if_tests_differ(grader):
    # Both give 3 and 0 on the prompt's examples; only one passes the hidden tests. The vote sees behaviour
    # on the examples only, never the tests.
    item = make_item()
    grades = grader.grade([(item, ["    return sum(xs)\n", "    return 3 if xs else 0\n"])])[0]
    assert grades[0].cls == grades[1].cls
    assert [g.verdict for g in grades] == ["correct", "incorrect"]


def test_without_examples_identical_programs_vote_together(grader):
    prompt = 'def add(xs):\n    """Sum of xs."""\n'
    item = make_item(item_id="t/noex", prompt=prompt)
    assert item.fields["examples"] == ()
    grades = grader.grade([(item, ["    return sum(xs)\n", "    return sum(xs)  # same\n", "    return sum(list(xs))\n"])])[0]
    assert grades[0].cls == grades[1].cls != grades[2].cls
    assert "vote by identical program" in grades[0].detail


@pytest.mark.slow
def test_time_limit_is_calibrated_from_the_reference_and_cached(sandbox, tmp_path):
    slow_body = "    import time\n    time.sleep(0.3)\n    return sum(xs)\n"
    item = make_item(reference_body=slow_body, item_id="t/slow")
    times = ReferenceTimes(tmp_path / "limits.json")
    g = CodeGrader("test", sandbox=sandbox, policy=TimePolicy(multiple=4, floor_s=0.5), times=times)
    limit, how = g.time_limits([item])["t/slow"]
    assert limit >= 4 * 0.6, "two calls of 0.3 s in the tests, four times over"
    assert "4 x reference" in how
    # Cached: a new grader reading the same file measures nothing and gets the same limit.
    again = CodeGrader("test", sandbox=sandbox, policy=TimePolicy(multiple=4, floor_s=0.5),
                       times=ReferenceTimes(tmp_path / "limits.json"))
    again.sandbox = None  # any attempt to run a reference now would fail
    assert again.time_limits([item])["t/slow"][0] == limit
    # The same slow program passes under its calibrated limit.
    again.sandbox = sandbox
    grades = again.grade([(item, [slow_body])])[0]
    assert grades[0].verdict == "correct", grades[0].detail


def test_reference_that_fails_here_falls_back(grader):
    item = make_item(reference_body="    return 0\n", item_id="t/broken")
    limit, how = grader.time_limits([item])["t/broken"]
    assert limit == 3.0 and "no reference solution passed here" in how


def test_policy_floor_and_multiple():
    p = TimePolicy(multiple=5, floor_s=2.0, fallback_s=9.0)
    assert p.limit(0.1) == 2.0 and p.limit(1.0) == 5.0 and p.limit(None) == 9.0
