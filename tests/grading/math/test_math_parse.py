"""Extraction, cleaning and the safe parser: unit cases, caps, and proof that hostile text is never run."""

from __future__ import annotations

import builtins

import pytest
from paths import REPO

from harness.grading.math import extract_answer, gold_answer, last_boxed
from harness.grading.math.normalize import clean_answer
from harness.grading.math.parse import MAX_DEPTH, ParseError, TooComplex, parse_answer, tokenize
from harness.grading.math.rational import rational_of
from fractions import Fraction

EXTRACT = [
    ("so \\boxed{\\frac{a}{\\sqrt{b}}} is it", "\\frac{a}{\\sqrt{b}}", "boxed"),
    ("\\boxed{1} then \\boxed{2}", "2", "boxed"),
    ("\\fbox{x+1}", "x+1", "boxed"),
    ("\\boxed{\\text{(B)}}", "\\text{(B)}", "boxed"),
    ("answer \\boxed{unclosed", None, None),
    ("#### 1,234", "1,234", "hashes"),
    ("The answer is 42.", "42", "answer_is"),
    ("The final answer is $x^2$. I hope it is correct.", "x^2", "minerva"),
    ("A: 17", "17", "a_line"),
    ("blah 3 blah 4 blah five", "4", "last_number"),
    ("(2, 4)", "(2, 4)", "whole"),
    ("", None, "none"),
]


@pytest.mark.parametrize("text,expected,method", EXTRACT)
def test_extract(text, expected, method):
    got = extract_answer(text)
    if expected is None and method is None:
        assert got.method != "boxed"
        return
    assert got.text == expected
    assert got.method == method


def test_last_boxed_nested_and_gold_solution():
    assert last_boxed("x \\boxed{\\frac{1}{\\left(2\\right)}} y") == "\\frac{1}{\\left(2\\right)}"
    assert gold_answer("Thus $\\boxed{12}$.") == "12"
    assert gold_answer("work\n#### 72") == "72"
    assert gold_answer(" 7 ") == "7"


CLEAN = [
    ("$\\frac{1}{2}$", "\\frac{1}{2}"), ("\\(x\\)", "x"), ("10{,}000", "10000"), ("1,000,000", "1000000"),
    ("1,2", "1,2"), ("(1,000)", "(1,000)"), ("\\left( 1 \\right)", "( 1 )"), ("5 \\text{ cm}^2", "5"),
    ("3 dollars.", "3"), ("x \\in (0,1)", "(0,1)"), ("\\$5", "5"), ("30^{\\circ}", "30 \\degree"), ("7.", "7"),
]


@pytest.mark.parametrize("raw,expected", CLEAN)
def test_clean(raw, expected):
    assert clean_answer(raw) == expected


def test_parse_trees():
    assert parse_answer("\\frac12") == ("/", ("num", "1"), ("num", "2"))
    assert parse_answer("9^9^9") == ("^", ("num", "9"), ("^", ("num", "9"), ("num", "9")))  # right associative
    assert parse_answer("-x^2")[0] == "neg"
    assert parse_answer("2\\frac{1}{3}") == ("mixed", ("num", "2"), ("num", "1"), ("num", "3"))
    assert parse_answer("2\\frac{\\pi}{3}")[0] == "*"  # not a mixed number
    assert parse_answer("(1,2]")[0] == "interval"
    assert parse_answer("(1,2)")[0] == "tuple"
    assert parse_answer("\\text{(C)}") == ("choice", "C")
    assert parse_answer("Evelyn") == ("text", "evelyn")


@pytest.mark.parametrize("text", ["2 3", "(1,2", "\\frac{1}", "\\unknowncmd{2}", "1 +", "[1,2,", "@", "\\begin{foo}1\\end{foo}"])
def test_parse_errors(text):
    with pytest.raises(ParseError):
        parse_answer(clean_answer(text))


def test_caps():
    with pytest.raises(TooComplex):
        parse_answer("(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5))
    with pytest.raises(TooComplex):
        parse_answer("1+" * 5000 + "1")
    with pytest.raises(TooComplex):
        tokenize("9" * 2000)


def test_fast_path_values():
    assert rational_of(parse_answer("\\frac{3}{4}")) == Fraction(3, 4)
    assert rational_of(parse_answer("1.5e-3")) == Fraction(3, 2000)
    assert rational_of(parse_answer(clean_answer("12.5\\%"))) == Fraction(25, 2)
    assert rational_of(parse_answer(clean_answer("12.5\\%")), "divide") == Fraction(1, 8)
    assert rational_of(parse_answer("\\sqrt{2}")) is None
    assert rational_of(parse_answer("9^{9^{9}}")) is None  # too large for the parent: left to the capped worker
    assert rational_of(parse_answer("1/0")) is None


HOSTILE = [
    "__import__('os').system('touch {marker}')",
    "\\boxed{__import__('os').system('touch {marker}')}",
    "\\boxed{\\text{__import__('os').system('touch {marker}')}}",
    "\\boxed{\\frac{__import__('os')}{system('touch {marker}')}}",
    "The answer is eval(\"__import__('os').system('touch {marker}')\")",
    "\\boxed{exec(compile('import os; os.system(\"touch {marker}\")', 'x', 'exec'))}",
    "\\boxed{2^{__import__('os').system('touch {marker}')}}",
    "\\boxed{Symbol('x').__class__.__mro__[1].__subclasses__()}",
    "\\boxed{lambda: __import__('os').system('touch {marker}')}",
    "\\boxed{x = __import__('os').system('touch {marker}')}",
]


def test_hostile_text_is_never_executed(tmp_path, monkeypatch):
    """Model text reaches no eval/exec/sympify/parse_expr: hostile answers in every form the grader
    parses come back unparseable or incorrect, the marker file is never created, and the grading code
    path in this process never calls eval, exec, sympify or parse_expr (patched to fail loudly)."""
    import sympy
    from sympy.parsing import sympy_parser

    from harness.grading.math import MathGrader
    from harness.grading.math import symbolic
    from harness.grading.math.parse import parse_answer as parse

    marker = tmp_path / "pwned"

    def boom(*a, **k):
        raise AssertionError("eval-like function called on model text")

    monkeypatch.setattr(sympy, "sympify", boom)
    monkeypatch.setattr(sympy_parser, "parse_expr", boom)
    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    texts = [h.replace("{marker}", str(marker)) for h in HOSTILE]
    for text in texts:  # the in-process stages and the worker's code, run here under the patches
        cleaned = clean_answer(extract_answer(text).text or "")
        try:
            ast = parse(cleaned)
        except ParseError:
            continue
        symbolic.run_job(("canon", ast, symbolic.Options()))
        symbolic.run_job(("equiv", ast, ("num", "0"), symbolic.Options()))
    monkeypatch.undo()
    with MathGrader(timeout_s=10) as grader:  # and the real path, through the worker pool
        grades = grader.grade_pairs([("12345", t) for t in texts])
    assert all(g.verdict in ("unparseable", "incorrect") for g in grades), [g.verdict for g in grades]
    assert not marker.exists()


def test_no_eval_in_grader_source():
    src = "".join(p.read_text() for p in REPO.joinpath(
        "harness", "grading", "math").glob("*.py"))
    for banned in ("sympify(", "parse_expr(", "eval(", "exec(", "parse_latex("):
        assert banned not in src, banned


def test_fuzz_random_text_never_raises():
    """Random text (unicode digits and letters, LaTeX fragments, brackets) never makes the in-process
    stages raise: whatever the model writes, the grader returns a verdict."""
    import random

    from harness.grading.math import MathGrader

    rng = random.Random(1234)
    alphabet = list("0123456789+-*/^_()[]{}\\$,.=<>!|&' xyzabcABC") + ["\\frac", "\\sqrt", "\\boxed{", "\\text{",
                                                                       "\\left(", "\\right)", "\\pm", "\\begin{pmatrix}",
                                                                       "\\end{pmatrix}", "²", "٣", "é", "π", "√", "°", "%",
                                                                       "\\\\", "&", "\\infty", "\\cup", "e", "i", "#### "]
    g = MathGrader()
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        p = g.parse(text)
        assert p.error is None or p.ast is None
        if p.error is not None and "internal" in p.error:
            raise AssertionError(f"parser bug on {text!r}: {p.error}")
    g.close()


def test_names_in_letter_runs_tokenize_as_the_longest_first_name_at_each_position():
    """Letter runs are split into known names (longest first at each position; "inf" only as the
    rest of the run) and single letters: checked against that rule spelled out name by name, on
    runs made of the names' own pieces."""
    import random

    from harness.grading.math.parse import _PLAIN_NAMES, tokenize

    def by_rule(word: str) -> list[tuple[str, str]]:
        out, j = [], 0
        while j < len(word):
            name = next((n for n in _PLAIN_NAMES if word.startswith(n, j) and (n != "inf" or word[j:] == "inf")), None)
            if name:
                out.append(("CMD", {"infinity": "infty", "inf": "infty", "oo": "infty"}.get(name, name)))
                j += len(name)
            else:
                out.append(("LET", word[j]))
                j += 1
        return out

    rng = random.Random(0)
    pieces = list(_PLAIN_NAMES) + ["x", "y", "n", "f", "o", "i", "in", "s", "a", "t"]
    words = ["inf", "info", "infinity", "sinx", "sqrtpi", "costheta", "oo", "xoo", "pin", "alphabeta"]
    words += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 4))) for _ in range(2000)]
    for word in words:
        assert [(kind, value) for kind, value, _ in tokenize(word) if kind != "EOF"] == by_rule(word), word
