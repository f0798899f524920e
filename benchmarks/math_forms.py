r"""Answer-form pairs rendered from real MATH-500 gold answers, with ground truth by construction.

Each gold answer is written in the forms models produce (issue 15's families: delimiters, labels,
joined lists, inequalities, matrices, spacing, commuted factors, free-text lines, approximations,
degrees, percent words) by string templates. The truth of a pair does not come from any grader:
- a positive is a template around the gold's own text, so it states the gold's value ("equal");
- a negative is the same template around a perturbed gold (its first digit run plus one, so
  `\frac{1}{2}` becomes `\frac{2}{2}`, `204_5` becomes `205_5`), which states another value
  ("not equal"); a gold without digits borrows the next item's gold (when its text differs).
The project's parser is used only to choose which templates fit a gold (is it a list, an interval, a
number?) and to compute the decimal an approximation or rounding prints. Convention families (rounded
decimals, decimal commas, percent, list order) are tagged with the convention their truth assumes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from harness.grading.math.normalize import clean_answer
from harness.grading.math.parse import ParseError, parse_answer
from harness.grading.math.rational import rational_of


@dataclass(frozen=True)
class FormPair:
    family: str
    gold: str
    response: str
    truth: bool
    convention: str | None = None  # the MathOptions field=value the truth assumes; None: any grader should agree


_DIGITS = re.compile(r"\d+")


def perturb(gold: str) -> str | None:
    """The gold with its first digit run incremented (another value), or None without digits."""
    m = _DIGITS.search(gold)
    if m is None:
        return None
    return gold[: m.start()] + str(int(m.group()) + 1) + gold[m.end():]


def top_split(s: str, sep: str) -> list[str]:
    """s split at `sep` outside brackets and braces."""
    out, depth, cur = [], 0, []
    i = 0
    while i < len(s):
        c = s[i]
        if s.startswith("\\left", i) or s.startswith("\\right", i):
            step = 5 if s.startswith("\\left", i) else 6
            cur.append(s[i: i + step])
            i += step
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == sep and depth == 0 and not (i > 0 and s[i - 1] == "\\"):
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return [p.strip() for p in out]


def _ast(gold: str):
    try:
        return parse_answer(clean_answer(gold))
    except ParseError:
        return None


def _float(ast) -> float | None:
    """The value of a numeric AST (no symbols), via sympy in this process (benchmark only)."""
    from harness.grading.math.symbolic import Options, Scalar, build

    try:
        v = build(ast, Options())
    except Exception:  # noqa: BLE001 - any failure means "not a number"
        return None
    if not isinstance(v, Scalar) or v.expr.free_symbols:
        return None
    try:
        x = complex(v.expr.evalf(30))
    except (TypeError, ValueError):
        return None
    return x.real if abs(x.imag) < 1e-12 and abs(x.real) < 1e12 else None


def _name_for(gold: str) -> str:
    for name in ("y", "N", "k", "m"):
        if name not in gold:
            return name
    return "Q"


def _templates(gold: str, problem: str) -> list[tuple[str, str, str | None]]:
    """(family, response, convention) forms of a gold answer; the same templates serve its negative."""
    out: list[tuple[str, str, str | None]] = []
    ast = _ast(gold)
    kind = ast[0] if ast is not None else None
    out += [("delimiters", f"Answer: \\( {gold} \\)", None), ("delimiters", f"Answer $ {gold} $", None),
            ("delimiters", f"\\[ {gold} \\]", None), ("delimiters", f"$${gold}$$", None)]
    out += [("spacing", f"\\boxed{{\\; {gold} \\;}}", None), ("spacing", f"\\boxed{{\\quad {gold} \\quad}}", None)]
    out += [("free_text", f"Final Answer: The value we want is ${gold}$.", None),
            ("free_text", f"\\boxed{{{gold} \\\\}}", None)]
    if kind in ("text", "choice") or ast is None:
        return out
    plain = kind not in ("rel", "list", "tuple", "interval", "union", "set", "matrix")
    value = rational_of(ast) if plain else None
    if plain:
        name = _name_for(gold)
        out.append(("labelled", f"\\boxed{{{name} = {gold}}}", None))
        if value is not None:
            out.append(("labelled", f"So $|PQ| = {gold}$, and the answer is $\\boxed{{|PQ| = {gold}}}$.", None))
            out.append(("labelled", f"\\boxed{{f(3) = {gold}}}", None))
            out.append(("free_text", f"Final Answer: The smallest possible value is {gold}.", None))
    if kind == "tuple":
        names = [c for c in "pqrstuvw" if c not in gold][: len(ast[1])]
        if len(names) == len(ast[1]):
            out.append(("labelled", f"\\boxed{{({', '.join(names)}) = {gold}}}", None))
    if kind == "list":
        parts = top_split(gold, ",")
        if len(parts) >= 2:
            out.append(("joined", ", ".join(parts[:-1]) + ", and " + parts[-1], None))
            out.append(("joined", " and ".join(parts), None))
            out.append(("joined", ", ".join(f"\\boxed{{{p}}}" for p in parts), None))
            out.append(("list_order", ", ".join(reversed(parts)), "list_order=any"))
    if kind == "interval":
        lc, rc = ast[1], ast[4]
        inner = gold.replace("\\left", "").replace("\\right", "").strip()
        ends = top_split(inner[1:-1], ",") if inner[:1] in "([" and inner[-1:] in ")]" else []
        lo, hi = ends if len(ends) == 2 else ("\\infty", "\\infty")
        le, ge = "\\le", "\\ge"
        if "infty" in lo and "infty" in hi:
            pass
        elif "infty" in lo and "infty" not in hi:
            out.append(("inequalities", f"\\boxed{{x {le if rc else '<'} {hi}}}", None))
            out.append(("inequalities", f"\\boxed{{-x {ge if rc else '>'} -({hi})}}", None))
        elif "infty" in hi and "infty" not in lo:
            out.append(("inequalities", f"\\boxed{{x {ge if lc else '>'} {lo}}}", None))
        elif "infty" not in lo:
            out.append(("inequalities", f"\\boxed{{{lo} {le if lc else '<'} x {le if rc else '<'} {hi}}}", None))
            out.append(("inequalities", f"\\boxed{{{lo} {le if lc else '<'} g(x) {le if rc else '<'} {hi}}}", None))
    if kind == "matrix" and "pmatrix" in gold:
        cols = len(ast[1][0])
        out.append(("matrices", gold.replace("\\begin{pmatrix}", f"\\left[\\begin{{array}}{{{'c' * cols}}}")
                    .replace("\\end{pmatrix}", "\\end{array}\\right]"), None))
    if plain:
        terms = top_split(gold, "+")
        if len(terms) >= 2 and all(t and "-" not in t for t in terms):
            out.append(("commuted", " + ".join(reversed(terms)), None))
        m = re.fullmatch(r"(\d+)\s*(\\sqrt\{\d+\}|\\pi|\\sqrt\d)", gold)
        if m:
            out.append(("commuted", f"{m.group(2)} \\cdot {m.group(1)}", None))
        x = _float(ast)
        if x is not None and value is None:
            out.append(("approx", f"\\boxed{{{gold} \\approx {x:.4f}}}", None))
        if value is not None and "degree" in problem.lower():
            out.append(("degrees", f"\\boxed{{\\angle ABC = {gold}^\\circ}}", None))
        if value is not None and "percent" in problem.lower():
            out.append(("percent", f"\\boxed{{{gold}\\%}}", "percent=strip"))
            out.append(("percent", f"The answer is {gold} percent.", "percent=strip"))
    return out


def _rounded(gold: str) -> list[tuple[str, str, bool, str]]:
    """(family, response, truth, convention) for golds whose value is not a short decimal: the value
    rounded to 4 places (equal under decimals=rounded) and one unit off in the last place (not equal)."""
    ast = _ast(gold)
    if ast is None or ast[0] in ("text", "choice", "rel", "list", "tuple", "interval", "union", "set", "matrix"):
        return []
    if re.search(r"(?:^|\d)\.\d", gold):
        return []  # written as a decimal already
    value = rational_of(ast)
    if value is not None and (value * 10 ** 4).denominator == 1:
        return []  # a short decimal already: rounding it is the identity
    x = _float(ast)
    if x is None:
        return []
    r = round(Fraction(x), 4) if value is None else round(value, 4)
    return [("rounded", f"\\boxed{{{float(r):.4f}}}", True, "decimals=rounded"),
            ("rounded", f"\\boxed{{{float(r + Fraction(1, 10 ** 4)):.4f}}}", False, "decimals=rounded")]


def _decimal_comma(gold: str) -> list[tuple[str, str, bool, str]]:
    if not re.fullmatch(r"-?\d+\.\d+", gold):
        return []
    wrong = perturb(gold) or gold
    return [("decimal_comma", f"\\boxed{{{gold.replace('.', ',')}}}", True, "decimal_comma=True"),
            ("decimal_comma", f"\\boxed{{{wrong.replace('.', ',')}}}", False, "decimal_comma=True")]


def form_pairs(data_dir: Path, limit: int | None = None) -> list[FormPair]:
    rows = [json.loads(line) for line in (data_dir / "math500_test.jsonl").open()]
    if limit:
        rows = rows[:limit]
    pairs: list[FormPair] = []
    for i, row in enumerate(rows):
        gold = row["answer"]
        wrong = perturb(gold)
        if wrong is None:
            other = rows[(i + 1) % len(rows)]["answer"]
            wrong = other if other.strip() != gold.strip() else None
        for family, response, conv in _templates(gold, row["problem"]):
            pairs.append(FormPair(family, gold, response, True, conv))
        if wrong is not None:
            neg = {(f, c): [] for f, _, c in _templates(gold, row["problem"])}
            for family, response, conv in _templates(wrong, row["problem"]):
                if (family, conv) in neg:
                    pairs.append(FormPair(family, gold, response, False, conv))
        for family, response, truth, conv in _rounded(gold) + _decimal_comma(gold):
            pairs.append(FormPair(family, gold, response, truth, conv))
    return pairs
