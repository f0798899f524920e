"""A small, safe arithmetic language: numbers, + - * /, unary minus and parentheses.

Why our own: calculator annotations in GSM8K solutions (`<<80000*1.5=120000>>`) are text from a data
file, and variants re-evaluate them with new numbers; nothing may pass them to `eval`. Each number
leaf keeps its position, so a caller can bind it to a quantity and substitute it. Evaluation is exact
(`fractions.Fraction`) and bounded: the text length, the nesting depth and the size of every
intermediate value are capped, so a hostile annotation costs microseconds and then raises ExprError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterator, Union

MAX_CHARS = 200
MAX_DEPTH = 20
MAX_BITS = 256  # numerator/denominator size of any value, far above any word problem

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<op>[-+*/()]))")


class ExprError(ValueError):
    """Not in the language, too large, or a division by zero; the message says which."""


@dataclass(frozen=True, slots=True)
class Num:
    """A number as written; `index` is its position among the expression's numbers (0-based)."""

    text: str
    value: Fraction
    index: int


@dataclass(frozen=True, slots=True)
class Neg:
    arg: "Expr"


@dataclass(frozen=True, slots=True)
class Bin:
    op: str  # one of + - * /
    left: "Expr"
    right: "Expr"


Expr = Union[Num, Neg, Bin]


def decimal_value(text: str) -> Fraction:
    """Exact value of a plain decimal literal (`12`, `1.5`, `.25`), no float in between."""
    whole, _, frac = text.partition(".")
    return Fraction(int((whole or "0") + frac), 10 ** len(frac))


def _tokens(text: str) -> list[tuple[str, str]]:
    if len(text) > MAX_CHARS:
        raise ExprError(f"expression longer than {MAX_CHARS} characters")
    out: list[tuple[str, str]] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None:
            raise ExprError(f"unexpected {stripped[pos:].strip()[:10]!r} at {pos}")
        out.append(("num", m.group("num")) if m.group("num") is not None else ("op", m.group("op")))
        pos = m.end()
    return out


class _Parser:
    """expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*; unary := '-' unary | atom;
    atom := NUM | '(' expr ')'."""

    def __init__(self, tokens: list[tuple[str, str]]):
        self.toks = tokens
        self.i = 0
        self.depth = 0
        self.nums = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ExprError("unexpected end of expression")
        self.i += 1
        return tok

    def expr(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"nesting deeper than {MAX_DEPTH}")
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            node = Bin(self.take()[1], node, self.term())
        self.depth -= 1
        return node

    def term(self) -> Expr:
        node = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            node = Bin(self.take()[1], node, self.unary())
        return node

    def unary(self) -> Expr:
        if self.peek() == ("op", "-"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExprError(f"nesting deeper than {MAX_DEPTH}")
            node = Neg(self.unary())
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Expr:
        kind, value = self.take()
        if kind == "num":
            node = Num(value, decimal_value(value), self.nums)
            self.nums += 1
            return node
        if value == "(":
            node = self.expr()
            if self.peek() != ("op", ")"):
                raise ExprError("missing ')'")
            self.take()
            return node
        raise ExprError(f"unexpected {value!r}")


def parse(text: str) -> Expr:
    """The tree of an arithmetic expression; raises ExprError for anything outside the language."""
    toks = _tokens(text)
    if not toks:
        raise ExprError("empty expression")
    p = _Parser(toks)
    node = p.expr()
    if p.peek() is not None:
        raise ExprError(f"unexpected {p.peek()[1]!r} after the expression")
    return node


def numbers(node: Expr) -> Iterator[Num]:
    """The number leaves, left to right (their `index` order)."""
    if isinstance(node, Num):
        yield node
    elif isinstance(node, Neg):
        yield from numbers(node.arg)
    else:
        yield from numbers(node.left)
        yield from numbers(node.right)


def _check(v: Fraction) -> Fraction:
    if v.numerator.bit_length() > MAX_BITS or v.denominator.bit_length() > MAX_BITS:
        raise ExprError("value too large")
    return v


def evaluate(node: Expr, leaf: Callable[[Num], Fraction] | None = None) -> Fraction:
    """Exact value; `leaf` gives each number's value (default: as written), so callers substitute."""
    if isinstance(node, Num):
        return _check(leaf(node) if leaf is not None else node.value)
    if isinstance(node, Neg):
        return -evaluate(node.arg, leaf)
    a, b = evaluate(node.left, leaf), evaluate(node.right, leaf)
    if node.op == "+":
        return _check(a + b)
    if node.op == "-":
        return _check(a - b)
    if node.op == "*":
        return _check(a * b)
    if b == 0:
        raise ExprError("division by zero")
    return _check(a / b)


def render(node: Expr, leaf: Callable[[Num], str] | None = None, parent: int = 0, right: bool = False) -> str:
    """The expression as text (no spaces), with each number spelled by `leaf` (default: as written).
    Parentheses only where precedence needs them."""
    prec = {"+": 1, "-": 1, "*": 2, "/": 2}
    if isinstance(node, Num):
        return leaf(node) if leaf is not None else node.text
    if isinstance(node, Neg):
        return "-" + render(node.arg, leaf, 3)
    p = prec[node.op]
    s = render(node.left, leaf, p) + node.op + render(node.right, leaf, p, right=True)
    if p < parent or (right and p == parent):
        return f"({s})"
    return s


def format_decimal(value: Fraction, max_places: int = 6) -> str:
    """`12`, `2.5`, `-0.125`: exact when the decimal terminates within `max_places`, else rounded to 2
    places (as GSM8K's own annotations round)."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    for places in range(max_places + 1):
        scaled = v * 10 ** places
        if scaled.denominator == 1:
            return sign + _places(int(scaled), places)
    return sign + _places(round(v * 100), 2)


def _places(n: int, places: int) -> str:
    if places == 0:
        return str(n)
    s = str(n).rjust(places + 1, "0")
    return f"{s[:-places]}.{s[-places:]}"
