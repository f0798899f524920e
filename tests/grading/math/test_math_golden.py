"""The golden suite: every (gold, response, expected verdict) case of tests/math_golden.py, graded in one
batch by one MathGrader (so the whole suite costs a few pool round trips), then checked case by case."""

from __future__ import annotations

import pytest

from harness.grading.math import MathGrader

from math_golden import CASES, GROUPS


@pytest.fixture(scope="module")
def verdicts():
    with MathGrader(timeout_s=10) as grader:
        grades = grader.grade_pairs([(gold, response) for _, gold, response, _ in CASES])
    return {(gold, response): g for (_, gold, response, _), g in zip(CASES, grades)}


def test_suite_is_large_and_covers_every_group():
    assert len(CASES) >= 300
    assert all(len(cases) >= 4 for cases in GROUPS.values())
    assert len({(g, r) for _, g, r, _ in CASES}) == len(CASES), "duplicate golden cases"


@pytest.mark.parametrize("group,gold,response,expected", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_golden(verdicts, group, gold, response, expected):
    grade = verdicts[(gold, response)]
    assert grade.verdict == expected, (
        f"[{group}] gold {gold!r} response {response!r}: expected {expected}, got {grade.verdict} "
        f"(extracted {grade.extracted!r}, canonical {grade.canonical!r}, detail {grade.detail!r})")
