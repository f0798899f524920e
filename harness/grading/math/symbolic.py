"""Answer values built as sympy objects from the parser's AST, their canonical spelling, and equivalence.

This module runs inside pool worker processes (see `pool.py`): building and comparing sympy objects
can take unbounded time, so the parent never calls it on model answers directly. Inputs are ASTs
(plain tuples), never strings, so nothing here evaluates text.

Sizes are capped while building: an integer power whose result would exceed `MAX_POWER_BITS` bits,
an exponent above `MAX_EXPONENT` on a symbolic base, a factorial or binomial above `MAX_FACTORIAL`
raise `TooLarge` (the verdict becomes "unparseable", detail "too large"). Everything else is bounded by
the pool's time limit.

Equivalence, in order:
1. equal canonical structure;
2. numbers (no free symbols): exactly for rationals, else both evaluated to 40 digits and compared to
   a relative 1e-25 (or the `rel_tol` option when larger);
3. expressions with symbols: evaluated at 6 seeded random points in (0.3, 1.9) for each symbol; any
   clear difference means "not equivalent", agreement at 3 or more points means "equivalent";
   when no point evaluates, `sympy.simplify(a - b) == 0` decides.
Structured answers compare part by part: tuples in order, sets and bare lists in any order,
intervals by endpoints and closedness, matrices cell by cell, equations `x = 5` by their right side
against a bare value, and two equations by proportional sides (`2x+2y=2` is `x+y=1`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import mpmath
import sympy
from sympy.core.numbers import Rational as SRational

from harness.grading.math.parse import AST, is_label
from harness.grading.math.rational import decimal_fraction, decimal_places, is_truncated

MAX_POWER_BITS = 100_000
MAX_EXPONENT = 10_000
MAX_FACTORIAL = 2_000
MAX_ALTERNATIVES = 16
N_POINTS = 6
_DIGITS = 40


class TooLarge(ValueError):
    """The answer denotes a number too large to build (a size cap was hit)."""


class Unsupported(ValueError):
    """The AST is in the grammar but has no value (e.g. a tuple inside a sum)."""


# ---- values -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scalar:
    expr: Any


@dataclass(frozen=True)
class Seq:
    kind: str  # "tuple" (ordered), "list" (bare commas) or "set"
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Interval:
    left_closed: bool
    lo: Any
    hi: Any
    right_closed: bool


@dataclass(frozen=True)
class Union:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Matrix:
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Relation:
    ops: tuple[str, ...]
    sides: tuple[Any, ...]  # sympy expressions


@dataclass(frozen=True)
class Ratio:
    items: tuple[Any, ...]  # sympy expressions


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Choice:
    letter: str


Value = Scalar | Seq | Interval | Union | Matrix | Relation | Ratio | Text | Choice


@dataclass(frozen=True)
class Options:
    percent: str = "strip"  # strip | divide | either (see grader.py for each convention)
    rel_tol: float = 0.0
    decimals: str = "exact"  # exact | rounded
    list_order: str = "any"  # any | ordered


# ---- building -----------------------------------------------------------------------------

_FUNCS = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "cot": sympy.cot, "sec": sympy.sec,
    "csc": sympy.csc, "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan,
    "arccot": sympy.acot, "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "exp": sympy.exp,
}
_TRIG = frozenset("sin cos tan cot sec csc".split())
_CONSTS = {"pi": sympy.pi, "E": sympy.E, "I": sympy.I, "oo": sympy.oo}


def _rat(text: str) -> Any:
    f = decimal_fraction(text)
    return sympy.Rational(f.numerator, f.denominator)


def _bits(x: Any) -> int:
    if isinstance(x, SRational):
        return max(int(x.p).bit_length(), int(x.q).bit_length())
    return 0


def _power(base: Any, exp: Any) -> Any:
    if exp.is_number and exp.is_finite is not False:
        if exp.is_real and exp.is_Rational:
            if abs(exp) > MAX_EXPONENT and base.is_number and base not in (0, 1, -1):
                raise TooLarge("exponent too large")
            if isinstance(base, SRational) and exp.is_Integer and _bits(base) * abs(int(exp)) > MAX_POWER_BITS:
                raise TooLarge("power too large")
            if not base.is_number and abs(exp) > 1000:
                raise TooLarge("exponent too large")
        else:
            val = complex(sympy.N(exp, 15))
            if abs(val) > MAX_EXPONENT:
                raise TooLarge("exponent too large")
    return sympy.Pow(base, exp)


def _alts(node: AST, opts: Options, trig: bool = False) -> list[Any]:
    """All values of a scalar AST; more than one only where `\\pm` occurs."""
    kind = node[0]
    if kind == "num":
        return [_rat(node[1])]
    if kind == "sym":
        return [sympy.Symbol(node[1])]
    if kind == "const":
        return [_CONSTS[node[1]]]
    if kind == "neg":
        return [-a for a in _alts(node[1], opts, trig)]
    if kind in ("+", "-", "*", "/", "^", "pm", "binom", "log"):
        if kind == "log":
            args = [_alts(node[2], opts)]
            bases = _alts(node[1], opts) if node[1] is not None else [None]
            out = [sympy.log(a) if b is None else sympy.log(a, b) for b in bases for a in args[0]]
            return _cap(out)
        left = _alts(node[1], opts, trig)
        right = _alts(node[2], opts, trig)
        out = []
        for a in left:
            for b in right:
                if kind == "+":
                    out.append(a + b)
                elif kind == "-":
                    out.append(a - b)
                elif kind == "*":
                    out.append(a * b)
                elif kind == "/":
                    out.append(a / b)
                elif kind == "^":
                    out.append(_power(a, b))
                elif kind == "pm":
                    out.extend([a + b, a - b])
                else:
                    out.append(_binom(a, b))
        return _cap(out)
    if kind == "mixed":
        whole, num, den = (_alts(x, opts)[0] for x in node[1:])
        return [whole + num / den]
    if kind == "fn":
        f = _FUNCS[node[1]]
        return _cap([f(a) for a in _alts(node[2], opts, trig=node[1] in _TRIG)])
    if kind == "root":
        out = []
        for n in _alts(node[1], opts):
            for a in _alts(node[2], opts):
                if n == 2:
                    out.append(sympy.sqrt(a))
                elif n.is_Integer and n % 2 == 1 and a.is_number and a.is_negative:
                    out.append(-sympy.root(-a, n))
                else:
                    out.append(sympy.root(a, n))
        return _cap(out)
    if kind == "fact":
        out = []
        for a in _alts(node[1], opts):
            if a.is_number and (not a.is_Integer or a > MAX_FACTORIAL):
                raise TooLarge("factorial too large")
            out.append(sympy.factorial(a))
        return out
    if kind == "pct":
        vals = _alts(node[1], opts, trig)
        return [v / 100 for v in vals] if opts.percent == "divide" else vals
    if kind == "trunc":  # "0.666...": the digits written (a rounded or truncated value under decimals="rounded")
        return _alts(node[1], opts, trig)
    if kind == "deg":
        vals = _alts(node[1], opts, trig)
        return [v * sympy.pi / 180 for v in vals] if trig else vals
    if kind == "abs":
        return [sympy.Abs(a) for a in _alts(node[1], opts)]
    if kind == "floor":
        return [sympy.floor(a) for a in _alts(node[1], opts)]
    if kind == "ceil":
        return [sympy.ceiling(a) for a in _alts(node[1], opts)]
    raise Unsupported(f"{kind} inside an expression")


def _binom(a: Any, b: Any) -> Any:
    if a.is_number and (not a.is_Integer or abs(a) > MAX_FACTORIAL):
        raise TooLarge("binomial too large")
    return sympy.binomial(a, b)


def _cap(values: list[Any]) -> list[Any]:
    if len(values) > MAX_ALTERNATIVES:
        raise TooLarge("too many \\pm alternatives")
    return values


def _scalar(node: AST, opts: Options) -> Any:
    vals = _alts(node, opts)
    if len(vals) != 1:
        raise Unsupported("\\pm where one value is expected")
    return vals[0]


def build(node: AST, opts: Options) -> Value:
    """The Value an answer AST denotes."""
    kind = node[0]
    if kind == "text":
        return Text(node[1])
    if kind == "choice":
        return Choice(node[1])
    if kind in ("tuple", "list", "set"):
        items: list[Value] = []
        for x in node[1]:
            v = build(x, opts)
            if kind != "tuple" and isinstance(v, Seq) and v.kind == "set" and x[0] == "pm":
                items.extend(v.items)  # "1 \pm \sqrt{2}, 3" lists three values
            else:
                items.append(v)
        return Seq(kind, tuple(items))
    if kind == "interval":
        return Interval(node[1], _scalar(node[2], opts), _scalar(node[3], opts), node[4])
    if kind == "union":
        return Union(tuple(build(x, opts) for x in node[1]))
    if kind == "matrix":
        return Matrix(tuple(tuple(_scalar(c, opts) for c in row) for row in node[1]))
    if kind == "ratio":
        return Ratio(tuple(_scalar(x, opts) for x in node[1]))
    if kind == "rel":
        ops, operands = node[1], node[2]
        if all(op == "=" for op in ops) and len(operands) > 2:
            operands = (operands[0], operands[-1])  # "x = 2 + 3 = 5" means x = 5
            ops = ("=",)
        if len(ops) == 1 and ops[0] == "=" and is_label(operands[0]):
            rhs = build(operands[1], opts)  # "x = 5", "g(t) = 2", "(a, b) = (4, 1)", "\angle XYZ = 35"
            return Relation(("=",), (_label_symbol(operands[0]), rhs.expr if isinstance(rhs, Scalar) else rhs))
        if not all(op == "=" for op in ops):
            sides = tuple(_side(x, opts) for x in operands)
            interval = _as_interval(ops, sides)
            if interval is not None:
                return interval
        else:
            sides = tuple(_scalar(x, opts) for x in operands)
        return Relation(tuple(ops), sides)
    vals = _alts(node, opts)
    if len(vals) == 1:
        return Scalar(vals[0])
    return Seq("set", tuple(Scalar(v) for v in vals))


def _label_name(node: AST) -> str:
    kind = node[0]
    if kind == "sym":
        return node[1]
    if kind == "label":
        return f"\\{node[1]} {_label_name(node[2])}"
    if kind == "*":
        return _label_name(node[1]) + _label_name(node[2]) if node[2][0] in ("sym", "label") else \
            f"{_label_name(node[1])}({_label_name(node[2])})"
    if kind == "abs":
        return f"|{_label_name(node[1])}|"
    if kind == "num":
        return node[1]
    if kind == "^":
        return f"{_label_name(node[1])}^{_label_name(node[2])}"
    if kind == "neg":
        return f"-{_label_name(node[1])}"
    if kind == "/":
        return f"{_label_name(node[1])}/{_label_name(node[2])}"
    if kind == "tuple":
        return "(" + ", ".join(_label_name(x) for x in node[1]) + ")"
    if kind == "ratio":
        return ":".join(_label_name(x) for x in node[1])
    return repr(node)


def _label_symbol(node: AST) -> Any:
    """The symbol a label stands for: `x` itself, else one symbol named after the label (`PQ`, `g(t)`)."""
    return sympy.Symbol(_label_name(node))


def _is_compound(sym: Any) -> bool:
    """A symbol made from a label that is more than one name (`PQ`, `g(t)`, `(a, b)`), not `x` or `a_1`."""
    return isinstance(sym, sympy.Symbol) and not sym.name.replace("_", "a").isalnum()


def _side(node: AST, opts: Options) -> Any:
    """One side of an inequality: a label that names one quantity (`g(x)`, `PQ`) is one variable,
    `|label|` its absolute value; else the expression."""
    if node[0] == "abs" and is_label(node[1]):
        return sympy.Abs(_label_symbol(node[1]))
    if is_label(node) and node[0] != "sym":
        return _label_symbol(node)
    return _scalar(node, opts)


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _linear(expr: Any) -> tuple[Any, Any, Any] | None:
    """(var, c, d) with expr = c*var + d, c a nonzero number and var one symbol or |symbol|; else None."""
    atoms = [a for a in expr.atoms(sympy.Abs) if isinstance(a.args[0], sympy.Symbol)]
    free = expr.free_symbols
    if len(free) != 1:
        return None
    var = atoms[0] if len(atoms) == 1 else next(iter(free))
    c = sympy.expand(expr).coeff(var)
    d = sympy.expand(expr - c * var)
    if not c.is_number or c == 0 or d.free_symbols:
        return None
    return var, c, d


def _as_interval(ops: tuple[str, ...], sides: tuple[Any, ...]) -> Interval | Union | None:
    """`x > 2` -> (2, oo); `-2 <= x <= 7` -> [-2, 7]; `-t >= -4` -> (-oo, 4]; `2 < g(x) < 5` -> (2, 5);
    `1 <= |w| <= 2` -> [-2, -1] U [1, 2]. None when not a one-variable linear inequality."""
    if any(op in ("=", "!=", "~") for op in ops) or len(ops) > 2:
        return None
    if len(ops) == 1:
        a, b = sides
        lin = _linear(a - b)
        if lin is None:
            return None
        var, c, d = lin
        op = ops[0] if c > 0 else _FLIP[ops[0]]  # c*var + d op 0  <=>  var op' -d/c
        bound = -d / c
        lo, hi, lc, rc = ((-sympy.oo, bound, False, op == "<=") if op in ("<", "<=")
                          else (bound, sympy.oo, op == ">=", False))
    else:
        if not (sides[0].is_number and sides[2].is_number):
            return None
        lin = _linear(sides[1])
        if lin is None:
            return None
        var, c, d = lin
        ops_ = list(ops)
        if all(op in (">", ">=") for op in ops_):
            sides, ops_ = (sides[2], sides[1], sides[0]), [_FLIP[ops_[1]], _FLIP[ops_[0]]]
        if not all(op in ("<", "<=") for op in ops_):
            return None
        lo, hi = (sides[0] - d) / c, (sides[2] - d) / c
        lc, rc = ops_[0] == "<=", ops_[1] == "<="
        if c < 0:
            lo, hi, lc, rc = hi, lo, rc, lc
    if isinstance(var, sympy.Abs):
        return _abs_interval(lo, hi, lc, rc)
    return Interval(lc, lo, hi, rc)


def _abs_interval(lo: Any, hi: Any, lc: bool, rc: bool) -> Interval | Union | None:
    """The values of x with lo (<|<=) |x| (<|<=) hi."""
    if not lo.is_number or not hi.is_number or hi.is_negative:
        return None
    if lo == -sympy.oo or lo.is_negative or (lo == 0 and lc):
        return Interval(rc, -hi, hi, rc)
    if hi == sympy.oo:
        return Union((Interval(False, -sympy.oo, -lo, lc), Interval(lc, lo, sympy.oo, False)))
    return Union((Interval(rc, -hi, -lo, lc), Interval(lc, lo, hi, rc)))


# ---- canonical spelling -------------------------------------------------------------------

_PRINT_AS = {sympy.I: sympy.Symbol("i"), sympy.E: sympy.Symbol("e")}


def _sstr(expr: Any) -> str:
    """sympy's spelling, with `i` and `e` as the parser reads them (so a canonical answer parses back)."""
    try:
        return sympy.sstr(expr.xreplace(_PRINT_AS)) if expr.has(sympy.I, sympy.E) else sympy.sstr(expr)
    except AttributeError:
        return sympy.sstr(expr)


def canonical(value: Value) -> str:
    """One spelling per value structure (sympy's `str` for expressions); equal spellings are equivalent."""
    if isinstance(value, Scalar):
        return _sstr(value.expr)
    if isinstance(value, Seq):
        parts = [canonical(v) for v in value.items]
        if value.kind == "tuple":
            return "(" + ", ".join(parts) + ")"
        parts.sort()
        return ("\\{" + ", ".join(parts) + "\\}") if value.kind == "set" else ", ".join(parts)
    if isinstance(value, Interval):
        return (("[" if value.left_closed else "(") + f"{_sstr(value.lo)}, {_sstr(value.hi)}"
                + ("]" if value.right_closed else ")"))
    if isinstance(value, Union):
        return " \\cup ".join(canonical(v) for v in value.items)
    if isinstance(value, Matrix):
        return "Matrix([" + ", ".join("[" + ", ".join(_sstr(c) for c in row) + "]" for row in value.rows) + "])"
    if isinstance(value, Relation):
        out = _sstr(value.sides[0])
        for op, side in zip(value.ops, value.sides[1:]):
            out += f" {op} " + (_sstr(side) if isinstance(side, sympy.Basic) else canonical(side))
        return out
    if isinstance(value, Ratio):
        return ":".join(_sstr(x) for x in value.items)
    if isinstance(value, Text):
        return value.text
    if isinstance(value, Choice):
        return f"({value.letter})"
    raise TypeError(type(value))


def rational_value(value: Value) -> Fraction | None:
    if isinstance(value, Scalar) and isinstance(value.expr, SRational):
        return Fraction(int(value.expr.p), int(value.expr.q))
    return None


# ---- equivalence --------------------------------------------------------------------------

_PREC = 140  # bits (about 42 digits) for numeric checks, done in mpmath rather than sympy Floats
_BAD = (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)


def _mp(v: Any) -> Any:
    """An evaluated sympy number as an mpmath number, or None when it is not a finite number."""
    if not v.is_number or v.has(*_BAD):
        return None
    try:
        m = v._to_mpmath(_PREC)
    except (AttributeError, TypeError, ValueError, ArithmeticError):
        return None
    return m if mpmath.isfinite(m) else None


def _close(a: Any, b: Any, rel_tol: float) -> bool:
    """mpmath numbers agree to a relative 1e-25, or to `rel_tol` when that is larger."""
    d = abs(a - b)
    scale = max(abs(a), abs(b))
    return bool(d <= max(rel_tol * scale, mpmath.mpf(10) ** -25 * max(scale, 1)))


def _points(symbols: list[Any]) -> list[dict[Any, Any]]:
    rng = random.Random(20240607)  # fixed: the same pair always gets the same points
    return [{s: sympy.Float(round(rng.uniform(0.3, 1.9), 6), _DIGITS) for s in symbols} for _ in range(N_POINTS)]


def scalar_equivalent(x: Any, y: Any, opts: Options) -> bool:
    if x == y:
        return True
    if isinstance(x, SRational) and isinstance(y, SRational):
        if opts.rel_tol > 0:
            return abs(x - y) <= opts.rel_tol * max(abs(x), abs(y))
        return False
    if x.has(*_BAD) or y.has(*_BAD):
        return False
    symbols = sorted(x.free_symbols | y.free_symbols, key=lambda s: s.name)
    if not symbols:
        a, b = _mp(sympy.N(x, _DIGITS)), _mp(sympy.N(y, _DIGITS))
        if a is None or b is None:
            return sympy.simplify(x - y) == 0
        return _close(a, b, opts.rel_tol)
    valid = 0
    for point in _points(symbols):
        a, b = _mp(x.evalf(_DIGITS, subs=point)), _mp(y.evalf(_DIGITS, subs=point))
        if a is None or b is None:
            continue
        if not _close(a, b, max(opts.rel_tol, 1e-15)):
            return False
        valid += 1
    if valid >= 3:
        return True
    return sympy.simplify(x - y) == 0


def _proportional(f: Any, g: Any) -> bool:
    """f = c*g for a nonzero constant c (two equations `f = 0`, `g = 0` are the same)."""
    if f == g or f == -g:
        return True
    if f == 0 or g == 0:
        return False
    symbols = sorted(f.free_symbols | g.free_symbols, key=lambda s: s.name)
    if not symbols:
        return False
    ratio = None
    valid = 0
    for point in _points(symbols):
        fv, gv = _mp(f.evalf(_DIGITS, subs=point)), _mp(g.evalf(_DIGITS, subs=point))
        if fv is None or gv is None or abs(gv) < 1e-20:
            continue
        r = fv / gv
        if ratio is None:
            if abs(r) < 1e-20:
                return False
            ratio = r
        elif abs(r - ratio) > 1e-15 * max(1, abs(ratio)):
            return False
        valid += 1
    return valid >= 3


def _match_unordered(xs: tuple[Any, ...], ys: tuple[Any, ...], opts: Options) -> bool:
    if len(xs) != len(ys):
        return False
    used = [False] * len(ys)
    for x in xs:  # greedy is exact here: equivalence is (close to) an equivalence relation
        for j, y in enumerate(ys):
            if not used[j] and equivalent(x, y, opts):
                used[j] = True
                break
        else:
            return False
    return True


def _as_vector(v: Value) -> tuple[Value, ...] | None:
    if isinstance(v, Matrix) and (len(v.rows) == 1 or all(len(r) == 1 for r in v.rows)):
        cells = v.rows[0] if len(v.rows) == 1 else tuple(r[0] for r in v.rows)
        return tuple(Scalar(c) for c in cells)
    if isinstance(v, Seq) and v.kind in ("tuple", "list"):
        return v.items
    return None


def _assignment(v: Relation) -> Value | None:
    """The value of `x = V` (or `V = x`); None for other relations."""
    if v.ops != ("=",):
        return None
    lhs, rhs = v.sides
    rv = rhs if not isinstance(rhs, sympy.Basic) else Scalar(rhs)
    lv = lhs if not isinstance(lhs, sympy.Basic) else Scalar(lhs)
    if isinstance(lhs, sympy.Symbol):
        return rv
    if isinstance(rhs, sympy.Symbol) and isinstance(lv, Scalar) and not lv.expr.free_symbols:
        return lv
    if isinstance(lv, Scalar) and isinstance(rv, Scalar) and lhs.is_number and rhs.is_number and lhs == rhs:
        return rv  # "\frac13 = 0.\overline{3}": one number written two ways
    return None


def equivalent(a: Value, b: Value, opts: Options) -> bool:
    """Whether two answer values are mathematically the same answer (see the module docstring)."""
    if type(a) is type(b) and a == b:
        return True
    if isinstance(b, Choice) and not isinstance(a, Choice):
        a, b = b, a
    if isinstance(a, Choice):
        if isinstance(b, Choice):
            return a.letter == b.letter
        if isinstance(b, Scalar) and isinstance(b.expr, sympy.Symbol):
            return b.expr.name == a.letter
        if isinstance(b, Text):
            return b.text == a.letter.lower()
        return False
    if isinstance(a, Text) or isinstance(b, Text):
        return isinstance(a, Text) and isinstance(b, Text) and a.text == b.text
    if isinstance(b, Relation) and not isinstance(a, Relation):
        a, b = b, a
    if isinstance(a, Relation):
        if isinstance(b, Relation):
            va, vb = _assignment(a), _assignment(b)
            if va is not None and vb is not None:
                if (a.sides[0] == b.sides[0] or not isinstance(a.sides[0], sympy.Symbol)
                        or _is_compound(a.sides[0]) or _is_compound(b.sides[0])):
                    return equivalent(va, vb, opts)
                return False
            if a.ops == b.ops == ("=",) and all(isinstance(s, sympy.Basic) for s in a.sides + b.sides):
                return _proportional(a.sides[0] - a.sides[1], b.sides[0] - b.sides[1])
            if a.ops == b.ops and len(a.sides) == len(b.sides):
                return all(scalar_equivalent(x, y, opts) for x, y in zip(a.sides, b.sides))
            return False
        va = _assignment(a)
        return va is not None and equivalent(va, b, opts)
    if isinstance(b, Ratio) and not isinstance(a, Ratio):
        a, b = b, a
    if isinstance(a, Ratio):
        if isinstance(b, Ratio):  # 3:11 is 6:22; with a zero part (a clock time, 12:00 vs 1:00) part by part
            if any(x == 0 for x in a.items + b.items):
                return len(a.items) == len(b.items) and all(scalar_equivalent(x, y, opts) for x, y in zip(a.items, b.items))
            return len(a.items) == len(b.items) and all(
                scalar_equivalent(x * b.items[0], y * a.items[0], opts) for x, y in zip(a.items, b.items))
        if isinstance(b, Scalar) and len(a.items) == 2 and a.items[1] != 0:  # 3:11 is 3/11
            return scalar_equivalent(a.items[0] / a.items[1], b.expr, opts)
        return False
    if isinstance(a, Seq) and len(a.items) == 1 and not isinstance(b, Seq):
        return equivalent(a.items[0], b, opts)
    if isinstance(b, Seq) and len(b.items) == 1 and not isinstance(a, Seq):
        return equivalent(a, b.items[0], opts)
    if isinstance(a, Seq) and isinstance(b, Seq):
        if a.kind == "tuple" or b.kind == "tuple":
            if {a.kind, b.kind} == {"tuple", "set"}:
                return False
            return len(a.items) == len(b.items) and all(equivalent(x, y, opts) for x, y in zip(a.items, b.items))
        if opts.list_order == "ordered" and a.kind == b.kind == "list":
            return len(a.items) == len(b.items) and all(equivalent(x, y, opts) for x, y in zip(a.items, b.items))
        return _match_unordered(a.items, b.items, opts)
    if isinstance(b, Interval) and not isinstance(a, Interval):
        a, b = b, a
    if isinstance(a, Interval):
        if isinstance(b, Interval):
            return (a.left_closed == b.left_closed and a.right_closed == b.right_closed
                    and _endpoint_eq(a.lo, b.lo, opts) and _endpoint_eq(a.hi, b.hi, opts))
        if isinstance(b, Seq) and b.kind == "tuple" and len(b.items) == 2 and not (a.left_closed or a.right_closed):
            return all(isinstance(y, Scalar) for y in b.items) and _endpoint_eq(a.lo, b.items[0].expr, opts) \
                and _endpoint_eq(a.hi, b.items[1].expr, opts)
        if isinstance(b, Union) and len(b.items) == 1:
            return equivalent(a, b.items[0], opts)
        return False
    if isinstance(a, Union) or isinstance(b, Union):
        a, b = _intervals_as_union(a), _intervals_as_union(b)  # "x < -1 or x > 1" is (-oo, -1) U (1, oo)
        if isinstance(a, Union) and isinstance(b, Union):
            return _match_unordered(a.items, b.items, opts)
        return False
    if isinstance(a, Matrix) or isinstance(b, Matrix):
        if isinstance(a, Matrix) and isinstance(b, Matrix):
            return (len(a.rows) == len(b.rows) and len(a.rows[0]) == len(b.rows[0])
                    and all(scalar_equivalent(x, y, opts) for ra, rb in zip(a.rows, b.rows) for x, y in zip(ra, rb)))
        va, vb = _as_vector(a), _as_vector(b)
        return va is not None and vb is not None and len(va) == len(vb) and all(
            equivalent(x, y, opts) for x, y in zip(va, vb))
    if isinstance(a, Scalar) and isinstance(b, Scalar):
        return scalar_equivalent(a.expr, b.expr, opts)
    return False


def _intervals_as_union(v: Value) -> Value:
    if isinstance(v, Seq) and v.kind == "list" and v.items and all(isinstance(x, Interval) for x in v.items):
        return Union(v.items)
    return v


def _endpoint_eq(x: Any, y: Any, opts: Options) -> bool:
    if x == y:
        return True
    if x.has(sympy.oo) or y.has(sympy.oo):
        return False
    return scalar_equivalent(x, y, opts)


# ---- worker jobs --------------------------------------------------------------------------

_CACHE: dict[tuple[AST, Options], Value] = {}
_CACHE_MAX = 20_000


def _value(node: AST, opts: Options) -> Value:
    key = (node, opts)
    hit = _CACHE.get(key)
    if hit is None:
        if len(_CACHE) > _CACHE_MAX:
            _CACHE.clear()
        hit = _CACHE[key] = build(node, opts)
    return hit


def _equiv_job(x: AST, y: AST, opts: Options) -> bool:
    """Equivalence of two answer ASTs under the options (both percent readings under "either", and a
    rounded decimal against an exact value under decimals="rounded")."""
    if opts.percent == "either":
        return any(_equiv_job(x, y, replace(opts, percent=mode)) for mode in ("strip", "divide"))
    a, b = _value(x, opts), _value(y, opts)
    if equivalent(a, b, opts):
        return True
    if opts.decimals == "rounded":
        return _rounded_equiv(x, y, opts)
    return False


def _rounded_equiv(x: AST, y: AST, opts: Options) -> bool:
    """Under decimals="rounded": equal part by part, where a decimal part may be a rounding of the
    other side's part (`(0.6, 2.6667]` is `(3/5, 8/3]`; a 2x1 matrix of roundings is its exact one)."""
    if x[0] == y[0] == "interval":
        return x[1] == y[1] and x[4] == y[4] and _rounded_equiv(x[2], y[2], opts) and _rounded_equiv(x[3], y[3], opts)
    if x[0] == y[0] == "tuple" and len(x[1]) == len(y[1]):
        return all(_rounded_equiv(p, q, opts) for p, q in zip(x[1], y[1]))
    if x[0] == y[0] == "matrix" and len(x[1]) == len(y[1]) and all(len(r) == len(s) for r, s in zip(x[1], y[1])):
        return all(_rounded_equiv(p, q, opts) for r, s in zip(x[1], y[1]) for p, q in zip(r, s))
    a, b = _value(x, opts), _value(y, opts)
    if equivalent(a, b, opts):
        return True
    for d_ast, dv, other_ast, ov in ((x, a, y, b), (y, b, x, a)):
        places, other_places = decimal_places(d_ast), decimal_places(other_ast)
        if places is not None and (other_places is None or other_places > places) and (
                _rounds(ov, dv, places) or (is_truncated(d_ast) and _truncates(ov, dv, places))):
            return True
    return False


def _rounds(exact: Value, decimal: Value, places: int) -> bool:
    """Whether a number rounds to a decimal with `places` digits after the point."""
    if not (isinstance(exact, Scalar) and isinstance(decimal, Scalar)) or exact.expr.free_symbols:
        return False
    e, d = _mp(sympy.N(exact.expr, _DIGITS)), _mp(sympy.N(decimal.expr, _DIGITS))
    if e is None or d is None or isinstance(e, mpmath.mpc) or isinstance(d, mpmath.mpc):
        return False
    gap = abs(e - d) * 2 * mpmath.mpf(10) ** places
    if gap < 1 - mpmath.mpf(10) ** -20:
        return True
    if gap > 1 + mpmath.mpf(10) ** -20:
        return False
    # a tie (0.335 to two places): half up, away from zero (0.34), or half to even (0.34); never 0.33
    return bool(abs(d) > abs(e) or int(mpmath.nint(abs(d) * mpmath.mpf(10) ** places)) % 2 == 0)


def _truncates(exact: Value, decimal: Value, places: int) -> bool:
    """Whether a number's decimal expansion starts with a decimal's `places` digits (`0.142857...` is 1/7)."""
    if not (isinstance(exact, Scalar) and isinstance(decimal, Scalar)) or exact.expr.free_symbols:
        return False
    e, d = _mp(sympy.N(exact.expr, _DIGITS)), _mp(sympy.N(decimal.expr, _DIGITS))
    if e is None or d is None or isinstance(e, mpmath.mpc) or isinstance(d, mpmath.mpc) or (e < 0) != (d < 0):
        return False
    return bool(abs(d) <= abs(e) < abs(d) + mpmath.mpf(10) ** -places)


def run_job(job: tuple[Any, ...]) -> tuple[Any, ...]:
    """A worker's unit of work, data in and data out:
    ("canon", ast, opts) -> ("ok", canonical_str, (p, q) | None)
    ("equiv", ast_a, ast_b, opts) -> ("ok", bool)
    and on failure ("err", "unparseable" | "timeout", detail)."""
    try:
        if job[0] == "canon":
            value = _value(job[1], job[2])
            r = rational_value(value)
            return ("ok", canonical(value), None if r is None else (r.numerator, r.denominator))
        if job[0] == "equiv":
            return ("ok", _equiv_job(job[1], job[2], job[3]))
        if job[0] == "sleep":  # for tests of the pool: a check that never finishes in time
            import time

            time.sleep(job[1])
            return ("ok", True)
        return ("err", "unparseable", f"unknown job {job[0]!r}")
    except TooLarge as exc:
        return ("err", "unparseable", f"too large: {exc}")
    except MemoryError:
        return ("err", "timeout", "memory limit")
    except RecursionError:
        return ("err", "unparseable", "too deeply nested")
    except Exception as exc:  # sympy raises many types on odd input; each is "no value"
        return ("err", "unparseable", f"{type(exc).__name__}: {str(exc)[:200]}")
