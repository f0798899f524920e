"""The safe arithmetic language of calculator annotations: golden values, refusals, rendering."""

import random
from fractions import Fraction

import pytest

from harness.synth import expr as ex

VALUES = [
    ("16-3-4", Fraction(9)),
    ("(100-20)/100*40", Fraction(32)),
    ("80000*1.5", Fraction(120000)),
    ("10*.5", Fraction(5)),
    ("-3*-2", Fraction(6)),
    ("2-(3-4)", Fraction(3)),
    ("8/(2*2)", Fraction(2)),
    ("1/3", Fraction(1, 3)),
    (" 2 + 3 * 4 ", Fraction(14)),
    ("0.1+0.2", Fraction(3, 10)),  # exact, not 0.30000000000000004
]

REFUSED = [
    ("__import__('os').system('x')", "unexpected"),
    ("2**3", "unexpected"),
    ("1/0", "division by zero"),
    ("(" * 30 + "1" + ")" * 30, "nesting"),
    ("-" * 30 + "1", "nesting"),
    ("1+", "end of expression"),
    ("(1+2", "missing"),
    ("1 2", "after the expression"),
    ("9" * 201, "longer than"),
    ("*".join(["99999999999999999999"] * 9), "too large"),
    ("", "empty"),
    ("x+1", "unexpected"),
]


@pytest.mark.parametrize("text,value", VALUES)
def test_values(text, value):
    assert ex.evaluate(ex.parse(text)) == value


@pytest.mark.parametrize("text,message", REFUSED)
def test_refused(text, message):
    with pytest.raises(ex.ExprError, match=message):
        ex.evaluate(ex.parse(text))


def _random_expr(rng: random.Random, depth: int = 0) -> str:
    if depth > 3 or rng.random() < 0.3:
        return str(rng.randint(1, 50)) if rng.random() < 0.8 else f"{rng.randint(0, 9)}.{rng.randint(1, 99)}"
    op = rng.choice("+-*/")
    s = f"{_random_expr(rng, depth + 1)}{op}{_random_expr(rng, depth + 1)}"
    return f"({s})" if rng.random() < 0.5 else s


def test_render_round_trips_for_random_expressions():
    """render(parse(t)) means the same as t: parentheses only where precedence needs them."""
    rng = random.Random(0)
    for _ in range(300):
        text = _random_expr(rng)
        try:
            value = ex.evaluate(ex.parse(text))
        except ex.ExprError:
            continue
        again = ex.render(ex.parse(text))
        assert ex.evaluate(ex.parse(again)) == value, (text, again)


def test_substituted_leaves_by_index():
    tree = ex.parse("(a)".replace("a", "2+3") + "*4")
    assert [n.index for n in ex.numbers(tree)] == [0, 1, 2]
    assert ex.evaluate(tree, lambda n: Fraction(10) if n.index == 0 else n.value) == 52
    assert ex.render(tree, lambda n: "7" if n.index == 2 else n.text) == "(2+3)*7"


@pytest.mark.parametrize("value,text", [(Fraction(12), "12"), (Fraction(5, 2), "2.5"), (Fraction(-1, 8), "-0.125"),
                                        (Fraction(1, 3), "0.33"), (Fraction(3, 100), "0.03")])
def test_format_decimal(value, text):
    assert ex.format_decimal(value) == text
