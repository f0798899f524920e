import pytest

from harness.grading.numeric import NumericGrader, extract_number, to_fraction
from harness.records import Item

EXTRACT = [
    ("She sells 16 - 3 - 4 = 9 eggs, 9 * 2 = 18.\n#### 18", "18"),
    ("The answer is $1,234.50.", "1234.50"),
    ("Total: 5 boxes. So the final answer is: 42", "42"),
    ("We get 3 then 4.\nA: 12", "12"),
    ("First 10, then 20, finally 30", "30"),
    ("The answer is \\boxed{\\frac{1}{2}} ... no wait", "1/2"),
    ("So x = \\dfrac{-3}{4}.", "-3/4"),
    ("Thus \\boxed{7} is it. Later I mention 9.", "7"),
    ("answer is -5 degrees", "-5"),
    ("The answer is −3", "-3"),
    ("no digits at all", None),
    ("Final Answer: 3/4", "3/4"),
    ("It costs $ 25 in total. The answer is 25.", "25"),
]


@pytest.mark.parametrize("text,expected", EXTRACT)
def test_extract_number(text, expected):
    assert extract_number(text) == expected


@pytest.mark.parametrize("a,b,equal", [("18", "18.0", True), ("1,000", "1000", True), ("0.5", "1/2", True),
                                       ("3", "4", False), (".5", "0.50", True)])
def test_fraction_equivalence(a, b, equal):
    assert (to_fraction(a) == to_fraction(b)) is equal


def test_huge_numbers_are_refused_not_computed():
    assert to_fraction("9" * 5000) is None


def test_grader_groups_equal_values_into_one_class():
    grades = NumericGrader().grade([(Item("0", "18"), ["#### 18", "The answer is 18.00", "#### 17", "nothing"])])[0]
    assert [x.verdict for x in grades] == ["correct", "correct", "incorrect", "unparseable"]
    assert grades[0].cls == grades[1].cls != grades[2].cls and grades[3].cls is None
