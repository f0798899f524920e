"""GSM8K-style numeric answers through the math grader's in-process fast path."""

import pytest

from harness.grading.math import MathGrader
from harness.records import Item

CASES = [
    ("She sells 16 - 3 - 4 = 9 eggs, 9 * 2 = 18.\n#### 18", "18"),
    ("The answer is $1,234.50.", "1234.50"),
    ("Total: 5 boxes. So the final answer is: 42", "42"),
    ("We get 3 then 4.\nA: 12", "12"),
    ("First 10, then 20, finally 30", "30"),
    ("The answer is \\boxed{\\frac{1}{2}} ... no wait", "1/2"),
    ("Thus \\boxed{7} is it. Later I mention 9.", "7"),
    ("answer is -5 degrees", "-5"),
    ("The answer is −3", "-3"),
    ("Final Answer: 3/4", "3/4"),
    ("It costs $ 25 in total. The answer is 25.", "25"),
]


@pytest.fixture(scope="module")
def grader():
    g = MathGrader()
    yield g
    g.close()


@pytest.mark.parametrize("text,gold", CASES)
def test_numeric_answer_is_found_and_correct(grader, text, gold):
    (grade,) = grader.grade([(Item("0", gold), [text])])[0]
    assert grade.verdict == "correct", grade


def test_equal_values_form_one_vote_class(grader):
    grades = grader.grade([(Item("0", "18"), ["#### 18", "The answer is 18.00", "#### 17", "nothing"])])[0]
    assert [x.verdict for x in grades] == ["correct", "correct", "incorrect", "unparseable"]
    assert grades[0].cls == grades[1].cls != grades[2].cls and grades[3].cls is None
