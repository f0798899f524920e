"""The in-process fast path: exact rational values of plain-number answers, without sympy.

Most GSM8K and AIME answers, and many MATH answers, are integers, decimals, fractions, mixed numbers,
percentages or powers of ten. Their value is computed here with `fractions.Fraction` (exact, no
rounding), so they never cost a round trip to a worker process. Anything else (a root, pi, a
symbol, a tuple) returns None and goes to the pool. Sizes are capped (`MAX_BITS`) so an answer like
`9^{9^{9}}` returns None here instead of computing a huge integer in the parent.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from harness.grading.math.parse import AST

PercentMode = Literal["strip", "divide", "either"]
MAX_BITS = 4096  # numerators and denominators above this size leave the fast path
MAX_EXPONENT = 4096


class _Skip(Exception):
    pass


def decimal_fraction(text: str) -> Fraction:
    """Exact value of a decimal literal such as `12`, `.5`, `3.25` or `1.5e-3` (no float in between)."""
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole or "0") + frac
    if len(digits) > 4000:  # beyond Python's int/str conversion limit; such literals are not answers
        raise _Skip
    value = Fraction(int(digits), 10 ** len(frac))
    if exp:
        e = int(exp)
        if abs(e) > MAX_EXPONENT:
            raise _Skip
        value *= Fraction(10) ** e
    return value


def _check(value: Fraction) -> Fraction:
    if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
        raise _Skip
    return value


def _value(node: AST, percent: PercentMode) -> Fraction:
    kind = node[0]
    if kind == "num":
        return _check(decimal_fraction(node[1]))
    if kind == "neg":
        return -_value(node[1], percent)
    if kind in ("+", "-", "*", "/"):
        a, b = _value(node[1], percent), _value(node[2], percent)
        if kind == "+":
            return _check(a + b)
        if kind == "-":
            return _check(a - b)
        if kind == "*":
            return _check(a * b)
        if b == 0:
            raise _Skip
        return _check(a / b)
    if kind == "^":
        base, exp = _value(node[1], percent), _value(node[2], percent)
        if exp.denominator != 1 or abs(exp.numerator) > MAX_EXPONENT:
            raise _Skip
        if base == 0 and exp < 0:
            raise _Skip
        bits = max(base.numerator.bit_length(), base.denominator.bit_length())
        if bits * abs(exp.numerator) > MAX_BITS:
            raise _Skip
        return base ** exp.numerator
    if kind == "mixed":
        whole, num, den = (_value(x, percent) for x in node[1:])
        if den == 0:
            raise _Skip
        return whole + num / den
    if kind == "pct":
        if percent == "either":  # two values: the pool compares both
            raise _Skip
        inner = _value(node[1], percent)
        return inner / 100 if percent == "divide" else inner
    if kind in ("deg", "trunc"):
        return _value(node[1], percent)
    raise _Skip


def rational_of(node: AST, percent: PercentMode = "strip") -> Fraction | None:
    """The exact value of a plain-number AST, or None when it is not one (or is too large)."""
    try:
        return _value(node, percent)
    except (_Skip, ValueError, ZeroDivisionError, OverflowError):
        return None


def decimal_places(node: AST) -> int | None:
    """Digits after the point of a decimal literal answer (`0.6667` -> 4, `-1.5` -> 1); None for others
    (`2/3`, `12`, `1.5e3`): what `decimals="rounded"` reads as a rounded value."""
    if node[0] == "neg":
        node = node[1]
    if node[0] == "trunc":
        node = node[1]
    if node[0] != "num" or "." not in node[1] or "e" in node[1]:
        return None
    places = len(node[1]) - node[1].index(".") - 1
    return places or None


def is_truncated(node: AST) -> bool:
    """A decimal written with an ellipsis (`0.666...`): its digits may be a truncation."""
    return (node[1] if node[0] == "neg" else node)[0] == "trunc"


def truncates_to(exact: Fraction, decimal: Fraction, places: int) -> bool:
    """Whether `exact`'s expansion starts with `decimal`'s `places` digits (`1/7` and `0.142857`)."""
    if (exact < 0) != (decimal < 0) and exact != 0 and decimal != 0:
        return False
    return abs(decimal) <= abs(exact) < abs(decimal) + Fraction(1, 10 ** places)


def rounds_to(exact: Fraction, decimal: Fraction, places: int) -> bool:
    """Whether `decimal` (with `places` digits after the point) is `exact` rounded to that many places
    (a tie rounds half up, away from zero, or half to even: both are in use)."""
    scaled = abs(exact) * 10 ** places
    target = abs(decimal) * 10 ** places
    if target.denominator != 1 or ((exact < 0) != (decimal < 0) and exact != 0 and decimal != 0):
        return False
    floor = scaled.numerator // scaled.denominator
    rest = scaled - floor
    if rest != Fraction(1, 2):
        return target == (floor + 1 if rest > Fraction(1, 2) else floor)
    return target in (floor + 1, floor + (floor % 2))


def format_rational(value: Fraction) -> str:
    """Canonical spelling of a rational: `-3`, `7/2`."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
