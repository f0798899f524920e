r"""Answer forms real model outputs produce, family by family (issue 15), and the conventions that are
flags. Written for this project from the forms the issue lists and from MATH-500 answers; every case
of one options set is graded in one batch by one MathGrader."""

from __future__ import annotations

import pytest

from harness.grading.math import MathGrader

C, I, U = "correct", "incorrect", "unparseable"

DELIMITERS = [
    ("12", "Answer: \\( 12 \\)", C), ("12", "Answer $ 12 $", C), ("12", "\\[ 12 \\]", C), ("12", "$$12$$", C),
    ("12", "Answer: \\[ 12 \\]", C), ("\\frac{1}{2}", "Answer $\\frac12$", C), ("12", "Answer $ 13 $", I),
]

JOINED = [
    ("4,5,6", "4 and 5 and 6", C), ("12, 7, 3", "12, 7 or 3", C), ("8, 15, 40", "8, 15, and 40", C),
    ("4, 5", "\\boxed{4}, \\boxed{5}", C), ("4,5", "so $\\boxed{4}$ and $\\boxed{5}$", C),
    ("4, 5", "\\boxed{4} then more work and finally \\boxed{5}", I),
    ("3, 1", "\\boxed{m = 3} \\quad \\text{and} \\quad \\boxed{n = 1}", C),
    ("\\text{black and white}", "black and white", C), ("4,5,6", "4 and 5", I),
]

SPACING = [
    ("\\frac{1}{2}", "\\boxed{\\; \\frac{1}{2} \\;}", C), ("10", "\\boxed{1\\!0}", C), ("10", "\\boxed{\\quad 10 \\quad}", C),
    ("25", "25 pct", C), ("25", "25 percentage", C), ("25", "25 percentage points", C), ("25", "26 pct", I),
]

FREE_TEXT = [
    ("17", "Final Answer: The smallest $k$ is 17.", C), ("17", "Final Answer: The smallest k is 17.", C),
    ("17", "Final Answer: The smallest $k$ is $17$.", C), ("17", "Final Answer: The smallest $k$ is 18.", I),
    ("12", "\\boxed{12\\\\}", C), ("12", "\\boxed{12\\}", C), ("12", "The answer is 12\\", C), ("12", "12 \\", C),
]

GROUPS = {"delimiters": DELIMITERS, "joined": JOINED, "spacing": SPACING, "free_text": FREE_TEXT}
CASES = [(group, gold, response, expected) for group, cases in GROUPS.items() for gold, response, expected in cases]


@pytest.fixture(scope="module")
def verdicts():
    with MathGrader(timeout_s=10) as grader:
        grades = grader.grade_pairs([(gold, response) for _, gold, response, _ in CASES])
    return {(gold, response): g for (_, gold, response, _), g in zip(CASES, grades)}


@pytest.mark.parametrize("group,gold,response,expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_form(verdicts, group, gold, response, expected):
    grade = verdicts[(gold, response)]
    assert grade.verdict == expected, (
        f"[{group}] gold {gold!r} response {response!r}: expected {expected}, got {grade.verdict} "
        f"(extracted {grade.extracted!r}, canonical {grade.canonical!r}, detail {grade.detail!r})")
