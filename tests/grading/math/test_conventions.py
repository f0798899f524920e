r"""Named conventions (issue 28): the same pairs under `strict` and `lenient`, as data, and how a set
of options is named. Written for this project; each column is one grader over one batch."""

from __future__ import annotations

import pytest

from harness.grading.math import MathGrader
from harness.grading.math.conventions import CONVENTIONS, describe, math_options

C, I, U = "correct", "incorrect", "unparseable"

# (gold, response, strict, lenient)
PAIRS = [
    ("\\frac{1}{12}", "0.0833333333333333", I, C), ("\\sqrt{17}", "4.123105625617661", I, C),
    ("\\frac{2}{3}", "0.6667", I, C), ("\\frac{2}{3}", "0.6666", I, I), ("\\pi", "3.14", I, C),
    ("33.5\\%", "0.335", I, C), ("0.335", "33.5\\%", I, C), ("33.5\\%", "33.5", C, C), ("33.5\\%", "0.34", I, C), ("33.5\\%", "0.33", I, I),
    ("3.5", "3,5", I, C), ("-0.25", "-0,25", I, C), ("1234", "1,234", C, C), ("1.234", "1,234", I, I),
    ("3, 5", "3,5", C, C), ("3.5", "3,6", I, I),
    ("\\frac{2}{3}", "0.666...", I, C), ("\\frac{2}{3}", "0.666\\ldots", I, C), ("\\frac{1}{7}", "0.142857...", I, C),
    ("\\frac{2}{3}", "0.665...", I, I), ("\\frac{2}{3}", "0.\\overline{6}", C, C),
    ("\\infty", "infinitely many", U, C), ("\\infty", "\\text{infinitely many solutions}", U, C),
    ("\\mathbb{R}", "all real numbers", U, C), ("\\emptyset", "no solution", U, C), ("5", "infinitely many", U, I),
    ("3, 5", "The solutions are 5 and 3.", C, C), ("3, 5", "The solutions are $x = 5$ and $x = 3$.", C, C),
    ("-2, 7", "The roots are $7$ and $-2$.", C, C), ("-2, 7", "The roots are $7$ and $-3$.", I, I),
    ("3, 5", "The answers are \\(5\\), and \\(3\\).", C, C), ("3, 5, 7", "7, 3 and 5", C, C), ("3, 5", "5, 4", I, I),
    ("(-\\infty,-1)\\cup(1,\\infty)", "x<-1 \\text{ or } x>1", C, C), ("\\frac{1}{2}", "½", C, C),
    ("5", "So \\boxed{5}. Check: \\boxed{}", C, C), ("(1, 2)", "(2, 1)", I, I),
    ("0.222", "0,222", I, C), ("(\\frac{3}{5},\\frac{8}{3}]", "(0.6,2.6667]", I, C), ("(\\frac{3}{5},\\frac{8}{3}]", "[0.6,2.6667]", I, I),
    ("(\\frac{1}{3}, 2)", "(0.33, 2)", I, C), ("(\\frac{1}{3}, 2)", "(0.34, 2)", I, I),
    ("\\begin{pmatrix} \\frac13 \\\\ \\frac15 \\end{pmatrix}", "\\begin{pmatrix} 0.33 \\\\ 0.2 \\end{pmatrix}", I, C),
]


@pytest.fixture(scope="module")
def verdicts():
    out = {}
    for name in ("strict", "lenient"):
        with MathGrader(math_options(name), timeout_s=10) as grader:
            out[name] = grader.grade_pairs([(g, r) for g, r, *_ in PAIRS])
    return out


@pytest.mark.parametrize("i", range(len(PAIRS)), ids=[f"{p[0]}|{p[1]}" for p in PAIRS])
@pytest.mark.parametrize("name", ["strict", "lenient"])
def test_pair_under_conventions(verdicts, name, i):
    gold, response, strict, lenient = PAIRS[i]
    expected = strict if name == "strict" else lenient
    got = verdicts[name][i]
    assert got.verdict == expected, f"{name}: {gold!r} vs {response!r}: {got}"


def test_strict_is_the_defaults_and_flags_override_a_name():
    assert math_options() == math_options("strict") == CONVENTIONS["strict"]
    opts = math_options("lenient", {"percent": "strip", "decimals": None})
    assert opts.percent == "strip" and opts.decimals == "rounded"
    assert describe(opts) == "lenient, percent=strip"
    assert describe(math_options("strict", {"decimals": "rounded"})) == "strict, decimals=rounded"
    assert describe(math_options("lenient")) == "lenient" and describe(math_options()) == "strict"


def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match="lenient"):
        math_options("sloppy")
