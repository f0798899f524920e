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
    ("\\text{black and white}", "black and white", C),
    ("\\frac{639}{40}", "so $\\boxed{15\\frac{39}{40}}$, or $\\boxed{\\frac{639}{40}}$ inches.", C), ("4,5,6", "4 and 5", I),
]

LABELLED = [
    ("\\frac{2}{5}", "y = 2/5", C), ("(4,1)", "(a,b)=(4,1)", C), ("3, 8", "PQ=3, RS=8", C), ("2", "g(t)=2", C),
    ("6", "|PQ| = 6", C), ("5:9", "A_1:A_2 = 5:9", C), ("6", "\\boxed{|PQ| = 6}", C), ("2", "\\boxed{g(t)=2}", C),
    ("7", "f(2) = 7", C), ("58,500", "\\boxed{y = 58,500}", C), ("1, 500", "y = 1, 500", C), ("6", "\\overline{AB} = 6", C), ("(4,1)", "(a,b)=(1,4)", I), ("2", "g(t)=3", I),
    ("5", "2x = 10", I), ("10", "x + y = 10", I), ("x=5", "y=5", I), ("(2, 9), (9, 2)", "\\boxed{(x, y) = (2, 9) \\text{ and } (9, 2)}", C),
    ("m=3, n=1", "\\boxed{m = 3} \\quad \\text{and} \\quad \\boxed{n = 1}", C),
]

INEQUALITIES = [
    ("(2, 5)", "2 < g(x) < 5", C), ("t \\le 4", "-t >= -4", C), ("t \\le 4", "-t \\ge -4", C), ("(-\\infty, 4]", "-t \\ge -4", C),
    ("[-2, -1] \\cup [1, 2]", "1 <= |w| <= 2", C), ("(-3, 3)", "|x| < 3", C), ("(-\\infty,-1)\\cup(1,\\infty)", "|x| > 1", C),
    ("(2, \\infty)", "2x + 1 > 5", C), ("[1, 3]", "3 \\ge y \\ge 1", C), ("\\{3, 7\\}", "{3, 7}", C),
    ("(2, 5)", "2 < g(x) \\le 5", I), ("t \\le 4", "t \\ge 4", I), ("[-2, -1] \\cup [1, 2]", "1 < |w| <= 2", I),
]

RATIOS_ANGLES = [
    ("3:11", "3:11", C), ("3:11", "\\boxed{3 : 11}", C), ("3:11", "6:22", C), ("3:11", "\\frac{3}{11}", C),
    ("1:2:3", "2:4:6", C), ("3:11", "11:3", I), ("1:2:3", "1:3:2", I),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\left[\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right]", C),
    ("35", "\\angle XYZ = 35^\\circ", C), ("35^\\circ", "\\boxed{\\angle XYZ = 35^\\circ}", C),
    ("35^\\circ", "m\\angle ABC = 36^\\circ", I), ("2x+3y", "3y+2x", C), ("6ab", "b \\cdot 6a", C),
    ("x(x+1)", "(1+x)x", C), ("\\pi\\sqrt{3}", "\\sqrt{3}\\pi", C), ("2\\sqrt{2}+3i", "3i+\\sqrt{8}", C),
]

APPROX = [
    ("\\frac{\\sqrt{2}}{2}", "\\boxed{\\frac{\\sqrt{2}}{2} \\approx 0.707}", C), ("4", "x \\approx 4", C),
    ("\\frac{\\sqrt{2}}{2}", "The answer is $\\frac{\\sqrt{2}}{2} \\approx 0.707$.", C),
    ("\\frac{\\sqrt{2}}{2}", "\\boxed{x = \\frac{\\sqrt{2}}{2} ≈ 0.707}", C), ("0.707", "\\boxed{\\frac{\\sqrt{2}}{2} \\approx 0.707}", I),
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

# Issue 28's forms, each family with cases of its own beyond the issue's strings.
REPEATING = [
    ("\\frac{1}{3}", "0.\\overline{3}", C), ("\\frac{4}{33}", "\\boxed{0.\\overline{12}}", C), ("\\frac{1}{6}", "0.1\\overline{6}", C),
    ("\\frac{1}{12}", "0.08\\overline{3}", C), ("\\frac{3}{11}", "0.\\overline{27}", C), ("\\frac{7}{3}", "2.\\overline{3}", C),
    ("\\frac{1}{7}", "0.\\overline{142857}", C), ("-\\frac{2}{9}", "-0.\\overline{2}", C), ("\\frac{1}{3}", "0.\\bar{3}", C),
    ("\\frac{3}{11}", "0.\\overline{72}", I), ("\\frac{1}{3}", "\\boxed{\\frac{1}{3} = 0.\\overline{3}}", C),
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{3} = 0.\\overline{3}}", I), ("\\frac{19}{55}", "0.3\\overline{45}", C), ("\\frac{1}{3}", "0.3", I), ("0.\\overline{6}", "\\frac{2}{3}", C),
]
INVERSE = [
    ("\\frac{x-3}{2}", "f^{-1}(x) = \\frac{x-3}{2}", C), ("\\sqrt{x}+1", "\\boxed{g^{-1}(x)=1+\\sqrt{x}}", C),
    ("5", "f^{-1}(3) = 5", C), ("\\frac{x+3}{2}", "f^{-1}(x) = \\frac{x-3}{2}", I), ("2x", "h^{-1}(x) = x/2", I),
]
PRODUCTS = [
    ("45", "\\frac{10!}{2!\\,8!}", C), ("2^6 \\cdot 3^5 \\cdot 5^4", "2^6 3^5 5^4", C), ("2^6 \\cdot 3^5 \\cdot 5^4", "2^6\\,3^5\\,5^4", C),
    ("72", "2^3 3^2", C), ("20", "\\frac{6!}{3!\\;3!}", C), ("2^6 \\cdot 3^5", "2^5 3^6", I), ("12", "3! 2!", C),
    ("2^2 \\cdot 3", "2^{2} 3", C),
]
DISPLAY = [
    ("9", "Answer \\[ 9 \\]", C), ("9", "Answer: \\[\n9\n\\]", C), ("9", "The answer is $$\n9\n$$", C),
    ("9", "Answer \\[ 9 \\] (checked in step 2)", C), ("9", "answer\n\\[ 9 \\]\nwith 2 checks", C),
    ("\\frac{1}{2}", "**Answer:**\n\\[\n\\frac12\n\\]", C), ("9", "Answer: \\[\n8\n\\]", I),
    ("9", "Answer \\(\n9\n\\)", C),
    ("\\begin{pmatrix}2 & 5 \\\\7 & 9\\end{pmatrix}", "So: $ \\left[\\begin{array}{cc}2 & 5 \\\\7 & 9\\end{array}\\right] $", C),
    ("14916", "Final Answer: The final answer is $14 {, }916$. I hope it is correct.", C), ("12", "Thus: $12$", C),
    ("4", "Final Answer: Jane started growing Rod 4 hours ago.", C), ("5", "Final Answer: Jane started growing Rod 4 hours ago.", I),
    ("(2,4)", "${2,4}$", C), ("(4,2)", "${2,4}$", I), ("\\{2,4\\}", "{4, 2}", C),
]
ARRAYS = [
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\boxed{\\left[\\begin{array}{rr}\n1&2\\\\\n3&4\n\\end{array}\\right]}", C),
    ("\\begin{pmatrix} -1 \\\\ 3 \\end{pmatrix}", "\\left[\\begin{array}{c}-1\\\\3\\end{array}\\right]", C),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\left(\\begin{array}{cc}1&2\\\\3&5\\end{array}\\right)", I),
]
CONDITIONS = [
    ("\\frac{1}{\\sqrt{6}}", "\\frac{NO}{BO}=\\frac{1}{\\sqrt{6}}", C), ("\\frac{3}{4}", "\\boxed{\\frac{AB}{CD} = \\frac{3}{4}}", C),
    ("\\frac{3}{4}", "\\frac{AB}{CD} = \\frac{4}{3}", I), ("ax^2", "g(x)=ax^2 \\text{ for some } a>0", C),
    ("ax^2", "\\boxed{g(x)=ax^2, \\text{ where } a>0}", C), ("ax^2", "\\boxed{g(x)=ax^2 \\quad (a>0)}", C),
    ("ax^2", "g(x)=ax^3 \\text{ for some } a>0", I), ("ke^x", "f(x) = ke^x \\text{ for any constant } k", C),
]
CLOCKS = [
    ("12:00", "1:00", I), ("12:00", "\\boxed{12:00}", C), ("3:05", "\\boxed{3:05}", C), ("3:05", "3:50", I),
    ("1:00", "\\boxed{12:00}", I), ("0:5", "0:1", I),
]
UNIONS = [
    ("(-\\infty,-1)\\cup(1,\\infty)", "x<-1 \\text{ or } x>1", C), ("(-\\infty,-1)\\cup(1,\\infty)", "x < -1 or x > 1", C),
    ("(-\\infty,-1]\\cup[2,\\infty)", "x \\le -1 \\text{ or } x \\ge 2", C), ("(-\\infty,-1)\\cup(1,\\infty)", "x<-1 \\text{ or } x>2", I),
    ("(-\\infty, \\infty)", "\\mathbb{R}", C), ("\\mathbb{R}", "(-\\infty,\\infty)", C), ("(0, \\infty)", "\\mathbb{R}", I),
    ("\\frac{1}{2}", "½", C), ("2\\frac{1}{2}", "2½", C),
]

GROUPS = {"delimiters": DELIMITERS, "labelled": LABELLED, "joined": JOINED, "inequalities": INEQUALITIES,
          "ratios_angles": RATIOS_ANGLES, "spacing": SPACING, "free_text": FREE_TEXT, "approx": APPROX,
          "repeating": REPEATING, "inverse": INVERSE, "products": PRODUCTS, "display": DISPLAY, "arrays": ARRAYS,
          "conditions": CONDITIONS, "clocks": CLOCKS, "unions": UNIONS}
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


# Conventions that are flags: (options, gold, response, expected). The default column shows each flag off.
FLAGGED = [
    ({}, "\\frac{2}{3}", "0.6667", I), ({}, "\\sqrt{3}", "1.7320508", I), ({}, "3.5", "3,5", I),
    ({}, "3, 5", "5, 3", C), ({}, "25\\%", "0.25", I), ({}, "25\\%", "25", C),
    ({"decimals": "rounded"}, "\\frac{2}{3}", "0.6667", C), ({"decimals": "rounded"}, "\\frac{2}{3}", "0.667", C),
    ({"decimals": "rounded"}, "\\frac{2}{3}", "0.6666", I), ({"decimals": "rounded"}, "\\sqrt{3}", "1.7320508", C),
    ({"decimals": "rounded"}, "\\sqrt{3}", "1.7321", C), ({"decimals": "rounded"}, "\\sqrt{3}", "1.7320", I),
    ({"decimals": "rounded"}, "0.35", "0.4", C), ({"decimals": "rounded"}, "0.35", "0.3", I),
    ({"decimals": "rounded"}, "0.6667", "\\frac{2}{3}", C), ({"decimals": "rounded"}, "\\pi", "3.14", C),
    ({"decimals": "rounded"}, "\\pi", "3.15", I), ({"decimals": "rounded"}, "2", "2.0001", I),
    ({"decimals": "rounded"}, "\\frac{\\sqrt{2}}{2}", "0.707", C), ({"decimals": "rounded"}, "-\\frac{1}{3}", "-0.33", C),
    ({"decimals": "rounded"}, "-\\frac{1}{3}", "0.33", I),
    ({"decimal_comma": True}, "3.5", "3,5", C), ({"decimal_comma": True}, "1234.5", "1.234,5", C),
    ({"decimal_comma": True}, "3, 5", "3, 5", C), ({"decimal_comma": True}, "0.25", "0{,}25", C),
    ({"list_order": "ordered"}, "3, 5", "5, 3", I), ({"list_order": "ordered"}, "3, 5", "3, 5", C),
    ({"percent": "either"}, "25\\%", "0.25", C), ({"percent": "either"}, "25\\%", "25", C),
    ({"percent": "either"}, "25", "0.25", I), ({"percent": "either"}, "0.25", "25\\%", C),
    ({"percent": "either"}, "25\\%", "0.5", I),
]


@pytest.fixture(scope="module")
def flagged_verdicts():
    out = {}
    for opts in {tuple(sorted(o.items())) for o, *_ in FLAGGED}:
        cases = [(g, r) for o, g, r, _ in FLAGGED if tuple(sorted(o.items())) == opts]
        with MathGrader(timeout_s=10, **dict(opts)) as grader:
            for pair, grade in zip(cases, grader.grade_pairs(cases)):
                out[(opts, *pair)] = grade
    return out


@pytest.mark.parametrize("options,gold,response,expected", FLAGGED,
                         ids=[f"{'-'.join(f'{k}={v}' for k, v in c[0].items()) or 'default'}-{i}" for i, c in enumerate(FLAGGED)])
def test_flagged(flagged_verdicts, options, gold, response, expected):
    grade = flagged_verdicts[(tuple(sorted(options.items())), gold, response)]
    assert grade.verdict == expected, f"{options} gold {gold!r} response {response!r}: {grade}"


def test_unknown_convention_is_refused():
    with pytest.raises(ValueError, match="decimals"):
        MathGrader(decimals="sloppy")
