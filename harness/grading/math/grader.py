"""MathGrader: extract, canonicalize, compare and group math answers, a batch at a time.

Per batch (`grade`):
1. in the parent, for the gold and every response: extract the answer, clean it, parse it into an
   AST (bounded), and compute its exact rational value when it is a plain number (the fast path);
2. collect the checks that need sympy: the canonical form of every distinct non-number answer, and
   the equivalence of every pair that is not two plain numbers (gold against each distinct answer,
   and distinct answers among themselves for the vote classes); skip those already cached;
3. send them all to the worker pool in one call (a few messages, not one per check);
4. per item: verdicts against the gold, and vote classes by union-find over "equivalent" answers,
   so `1/2`, `0.5` and `\\frac{1}{2}` share a class.
A check that overruns its time limit is "timeout", never "incorrect". A batch of plain numbers
never starts the pool (`start()` does: the run loop calls it while the model generates).

Conventions (each a flag in `MathOptions`):
- `percent="strip"` (default): `33.5\\%` is 33.5, so it equals `33.5` and not `0.335`; the benchmarks'
  gold answers write percentages as the number before the sign. `percent="divide"` makes it 0.335.
  `percent="either"` accepts both readings (`25\\%` equals 25 and 0.25).
- `rel_tol=0.0` (default): numbers compare exactly (rationals) or to 1e-25 relative (irrationals),
  so `0.333` is not `1/3`; a positive `rel_tol` accepts relative differences up to it.
- `decimals="exact"` (default): a decimal is the exact number it spells, so `0.6667` is not `2/3`.
  `decimals="rounded"` reads a decimal answer with k digits after the point as a value rounded to k
  places: it equals an exact answer that rounds to it (`0.6667` and `0.667` are `2/3`, `1.7320508` is
  `\\sqrt{3}`; `0.6666`, a truncation, is not), when the other side is not itself a decimal with as few
  places (then both are exact). It applies to a single-number answer.
- `decimal_comma=False` (default): a comma between digits separates list items or thousands
  (`3,5` is the list 3, 5; `1,234` is 1234). `decimal_comma=True` reads the locale form: `3,5` is 3.5,
  `1.234,5` is 1234.5.
  `decimal_comma="either"` also reads a single number with one comma that cannot separate thousands
  (`3,5`, `0,222`; never `1,234`) as a decimal: correct when either reading is.
- `words=False` (default): "infinitely many" is text. `words=True` reads "infinitely many",
  "all real numbers" and "no solution(s)" as `\\infty`, `\\mathbb{R}` and the empty set.
- Named sets of these flags (`strict`, `lenient`) are in `conventions.py`.
- `list_order="any"` (default): a bare list (`3, 5, 7`) is the set of its answers, in any order;
  tuples `(1, 2)` are always ordered. `list_order="ordered"` makes a bare list compare in order.
- degrees: `30^\\circ` is 30 (inside a trig function it is pi/6).
- `i` is the imaginary unit and `e` Euler's number; `204_5` (a base subscript) is the digits 204.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Hashable, Literal, Sequence

from harness.records import Grade, Item, Verdict
from harness.grading.base import classes_by_key
from harness.grading.math.extract import extract_answer, gold_answer
from harness.grading.math.normalize import clean_answer, word_answer
from harness.grading.math.parse import AST, ParseError, TooComplex, parse_answer
from harness.grading.math.pool import WorkerPool
from harness.grading.math.rational import (decimal_places, format_rational, is_truncated, rational_of, rounds_to,
                                           truncates_to)
from harness.grading.math.symbolic import Options

_CACHE_MAX = 200_000
_CACHE_TEXT_MAX = 2_000  # responses longer than this are not kept in the parse cache
MAX_PAIRWISE = 24  # distinct answers per item compared among themselves; beyond, only against the gold


@dataclass(frozen=True)
class MathOptions:
    percent: Literal["strip", "divide", "either"] = "strip"
    rel_tol: float = 0.0
    decimals: Literal["exact", "rounded"] = "exact"
    decimal_comma: bool | Literal["either"] = False
    list_order: Literal["any", "ordered"] = "any"
    words: bool = False  # "infinitely many", "all real numbers", "no solution" as \infty, \mathbb{R}, the empty set
    timeout_s: float = 5.0  # per check, in a worker
    workers: int | None = None  # default: min(2, cpu count)
    memory_mb: int | None = 3072  # per worker


@dataclass(frozen=True, slots=True)
class Parsed:
    """One answer after the in-process stages."""

    extracted: str | None
    cleaned: str | None
    ast: AST | None
    value: Fraction | None  # exact value on the fast path
    error: str | None  # why there is no AST
    places: int | None = None  # digits after the point of a decimal literal (for decimals="rounded")
    truncated: bool = False  # written with an ellipsis (`0.666...`): a truncation counts as well as a rounding
    alt: "Parsed | None" = None  # the other reading under decimal_comma="either" (`3,5` as 3.5)
    # Equal keys are the same answer without any check: ("q", value), ("a", ast) or None. Made once
    # (grading a batch asks for it tens of times per answer).
    key: Hashable | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = ("q", self.value) if self.value is not None else ("a", self.ast) if self.ast is not None else None
        object.__setattr__(self, "key", key)


def _rounded_pair(a: Parsed, b: Parsed) -> bool:
    """Under decimals="rounded": one side is a decimal with fewer places than the other, and the other rounds to it."""
    for d, x in ((a, b), (b, a)):
        dv, xv = d.value, x.value
        if (d.places is not None and dv is not None and xv is not None and (x.places is None or x.places > d.places)
                and (rounds_to(xv, dv, d.places) or (d.truncated and truncates_to(xv, dv, d.places)))):
            return True
    return False


_LONE_DECIMAL_COMMA = re.compile(r"^-?(?:0,\d+|\d+,(?:\d{1,2}|\d{4,}))$")  # never thousands: 0,222 or 3,5


def _alt_pairs(gold: Parsed, answers: Sequence[Parsed]) -> list[tuple[Parsed, Parsed]]:
    """(gold, answer) readings beyond the first, where either has another (decimal_comma="either")."""
    out = []
    for p in answers:
        if gold.alt is None and p.alt is None:
            continue
        for g in (gold, gold.alt):
            for q in (p, p.alt):
                if g is not None and q is not None and (g is not gold or q is not p):
                    out.append((g, q))
    return out


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Hashable, Hashable] = {}

    def find(self, x: Hashable) -> Hashable:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: Hashable, b: Hashable) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


class MathGrader:
    """The Grader for math answers; see the module docstring. `close()` stops the worker pool."""

    def __init__(self, options: MathOptions | None = None, **overrides: Any):
        opts = options or MathOptions()
        if overrides:
            opts = MathOptions(**{**opts.__dict__, **overrides})
        self.options = opts
        for name, allowed in (("percent", ("strip", "divide", "either")), ("decimals", ("exact", "rounded")),
                              ("list_order", ("any", "ordered")), ("decimal_comma", (False, True, "either"))):
            if getattr(opts, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {getattr(opts, name)!r}")
        self._sym_opts = Options(opts.percent, opts.rel_tol, opts.decimals, opts.list_order)
        self._pool: WorkerPool | None = None
        self._parsed: dict[tuple[str, bool], Parsed] = {}
        self._canon: dict[AST, tuple[Any, ...]] = {}
        self._equiv: dict[tuple[AST, AST], tuple[Any, ...]] = {}
        self.stats = {"checks_sent": 0, "fast": 0, "batches": 0}

    # ---- stage 1: in the parent --------------------------------------------------------------
    def parse(self, text: str, gold: bool = False) -> Parsed:
        """Extract (responses) or take (gold) the answer, clean it, parse it; cached by text."""
        key = (text, gold)
        hit = self._parsed.get(key)
        if hit is not None:
            return hit
        if gold:
            raw: str | None = gold_answer(text)
        else:
            raw = extract_answer(text).text
        parsed = self._analyze(raw)
        if gold or len(text) <= _CACHE_TEXT_MAX:  # long responses are rarely repeated: not worth the memory
            if len(self._parsed) > _CACHE_MAX:
                self._parsed.clear()
            self._parsed[key] = parsed
        return parsed

    def _analyze(self, raw: str | None, decimal_comma: bool | None = None) -> Parsed:
        if raw is None or not raw.strip():
            return Parsed(raw, None, None, None, "no answer found")
        either = decimal_comma is None and self.options.decimal_comma == "either"
        comma = bool(self.options.decimal_comma is True) if decimal_comma is None else decimal_comma
        if self.options.words:
            raw = word_answer(raw)
        parsed = self._analyze_as(raw, comma)
        if either and parsed.cleaned is not None and _LONE_DECIMAL_COMMA.match(parsed.cleaned):
            return replace(parsed, alt=self._analyze_as(raw, True))
        return parsed

    def _analyze_as(self, raw: str, decimal_comma: bool) -> Parsed:
        cleaned = None
        try:
            cleaned = clean_answer(raw, decimal_comma)
            ast = parse_answer(cleaned)
            return Parsed(raw, cleaned, ast, rational_of(ast, self.options.percent), None, decimal_places(ast),
                          is_truncated(ast))
        except TooComplex as exc:
            return Parsed(raw, cleaned, None, None, f"too complex: {exc}")
        except ParseError as exc:
            return Parsed(raw, cleaned, None, None, f"unparseable: {exc}")
        except RecursionError:
            return Parsed(raw, cleaned, None, None, "too complex: nesting")
        except Exception as exc:  # model text must never crash a run: a parser bug is an unparseable answer
            return Parsed(raw, cleaned, None, None, f"unparseable (internal {type(exc).__name__}: {exc})")

    # ---- stage 2-3: the pool ------------------------------------------------------------------
    @property
    def pool(self) -> WorkerPool:
        if self._pool is None:
            self._pool = WorkerPool(self.options.workers, self.options.timeout_s, self.options.memory_mb)
        return self._pool

    @staticmethod
    def _pair_key(a: AST, b: AST) -> tuple[AST, AST]:
        return (a, b) if repr(a) <= repr(b) else (b, a)

    def _plan(self, gold: Parsed, answers: list[Parsed]) -> tuple[list[AST], list[tuple[AST, AST]]]:
        """Canonical forms and pairs this item needs from the pool (not yet cached)."""
        canon: list[AST] = []
        pairs: list[tuple[AST, AST]] = []
        distinct: dict[Hashable, Parsed] = {}
        for p in answers:
            if p.key is not None and p.key not in distinct:
                distinct[p.key] = p
        for p in [gold, *distinct.values()]:
            if p.ast is not None and p.value is None and p.ast not in self._canon:
                if p.ast[0] in ("text", "sym"):  # words, or one unknown, spell themselves: no worker needed
                    self._canon[p.ast] = ("ok", p.ast[1], None)
                else:
                    canon.append(p.ast)
        reps = list(distinct.values())
        if gold.ast is not None:
            for p in reps:
                if self._needs_check(gold, p):
                    pairs.append(self._pair_key(gold.ast, p.ast))
        for g, p in _alt_pairs(gold, reps):
            if self._needs_check(g, p):
                pairs.append(self._pair_key(g.ast, p.ast))
        head = reps[:MAX_PAIRWISE]
        for i, p in enumerate(head):
            for q in head[i + 1:]:
                if self._needs_check(p, q):
                    pairs.append(self._pair_key(p.ast, q.ast))
        return canon, [pk for pk in pairs if pk not in self._equiv]

    def _needs_check(self, a: Parsed, b: Parsed) -> bool:
        if a.ast is None or b.ast is None or a.key == b.key:
            return False
        if a.cleaned is not None and a.cleaned == b.cleaned:
            return False
        return not (a.value is not None and b.value is not None) and self._known_apart(a, b) is None

    def _known_apart(self, a: Parsed, b: Parsed) -> bool | None:
        """False for two different answers that no check could find equal, so no worker is asked: words
        against anything but a choice letter (other words, a number, an expression), and a plain number
        against a lone unknown (`5` and `H`: it takes other values at the points checked). None:
        sympy decides. Both parsed, and not the same text."""
        assert a.ast is not None and b.ast is not None
        kinds = (a.ast[0], b.ast[0])
        if "text" in kinds and "choice" not in kinds:
            return False
        if self.options.rel_tol == 0 and ((a.value is not None and kinds[1] == "sym")
                                          or (b.value is not None and kinds[0] == "sym")):
            return False
        return None

    def _run_checks(self, canon: list[AST], pairs: list[tuple[AST, AST]]) -> None:
        canon = list(dict.fromkeys(canon))
        pairs = list(dict.fromkeys(pairs))
        jobs: list[tuple[Any, ...]] = [("canon", a, self._sym_opts) for a in canon]
        jobs += [("equiv", a, b, self._sym_opts) for a, b in pairs]
        if not jobs:
            return
        self.stats["checks_sent"] += len(jobs)
        results = self.pool.run(jobs)
        if len(self._canon) > _CACHE_MAX:
            self._canon.clear()
        if len(self._equiv) > _CACHE_MAX:
            self._equiv.clear()
        for a, r in zip(canon, results[: len(canon)]):
            self._canon[a] = r
        for pk, r in zip(pairs, results[len(canon):]):
            self._equiv[pk] = r

    # ---- stage 4: verdicts and classes ----------------------------------------------------------
    def _same(self, a: Parsed, b: Parsed) -> tuple[Any, ...]:
        """("ok", bool) or ("err", kind, detail) for two parsed answers, from the fast path or the caches."""
        if a.key is not None and a.key == b.key:
            return ("ok", True)
        if a.cleaned is not None and a.cleaned == b.cleaned:
            return ("ok", True)
        if a.value is not None and b.value is not None:
            self.stats["fast"] += 1
            if self.options.decimals == "rounded" and _rounded_pair(a, b):
                return ("ok", True)
            if self.options.rel_tol > 0:
                return ("ok", abs(a.value - b.value) <= self.options.rel_tol * max(abs(a.value), abs(b.value)))
            return ("ok", False)
        if a.ast is None or b.ast is None:
            return ("ok", False)
        apart = self._known_apart(a, b)
        if apart is not None:
            return ("ok", apart)
        return self._equiv.get(self._pair_key(a.ast, b.ast), ("err", "timeout", "not checked"))

    def _canonical(self, p: Parsed) -> tuple[str | None, str | None]:
        """(canonical spelling, error kind) of an answer."""
        if p.value is not None:
            return format_rational(p.value), None
        if p.ast is None:
            return None, "unparseable"
        r = self._canon.get(p.ast)
        if r is None:
            return p.cleaned, None
        if r[0] == "ok":
            return r[1], None
        return None, r[1]

    def _grade_item(self, gold: Parsed, answers: list[Parsed]) -> list[Grade]:
        uf = _UnionFind()
        distinct: dict[Hashable, Parsed] = {}
        for p in answers:
            if p.key is not None and p.key not in distinct:
                distinct[p.key] = p
        reps = list(distinct.items())
        head = reps[:MAX_PAIRWISE]
        for i, (ka, pa) in enumerate(head):
            for kb, pb in head[i + 1:]:
                r = self._same(pa, pb)
                if r[0] == "ok" and r[1]:
                    uf.union(ka, kb)
        out: list[Grade] = []
        keys: list[Hashable | None] = []
        for p in answers:
            canonical, err = self._canonical(p)
            verdict: Verdict
            detail = p.error
            if p.cleaned is not None and p.cleaned == gold.cleaned:
                verdict = "correct"  # identical text, even when too large to parse
                canonical = canonical if canonical is not None else p.cleaned
            elif p.ast is None:
                verdict = "unparseable"
            elif err is not None:
                verdict = "timeout" if err == "timeout" else "unparseable"
                detail = str(self._canon.get(p.ast, ("", "", ""))[2])
            elif p.ast[0] == "text" and gold.ast is not None and gold.ast[0] not in ("text", "choice"):
                verdict = "unparseable"  # words where a number or expression was asked for
                detail = "text answer to a math question"
            elif gold.ast is None and gold.cleaned != p.cleaned:
                verdict = "incorrect"
                detail = f"gold not parseable: {gold.error}"
            else:
                r = self._same(gold, p)
                if r[0] == "ok" and not r[1] and any(self._same(g, q) == ("ok", True) for g, q in _alt_pairs(gold, [p])):
                    r = ("ok", True)  # decimal_comma="either": the other reading of `3,5` is right
                if r[0] == "ok":
                    verdict = "correct" if r[1] else "incorrect"
                else:
                    verdict = "timeout" if r[1] == "timeout" else "incorrect"
                    detail = str(r[2])
            votes = verdict in ("correct", "incorrect")
            key = p.key if p.key is not None else (("s", p.cleaned) if votes else None)
            keys.append(uf.find(key) if votes and key is not None else None)
            out.append(Grade(p.extracted, canonical, verdict, None, detail))
        classes = classes_by_key(keys)
        return [Grade(g.extracted, g.canonical, g.verdict, c, g.detail) for g, c in zip(out, classes)]

    # ---- the Grader protocol ------------------------------------------------------------------
    def grade(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[Grade]]:
        """One Grade per response per item, in order; see the module docstring."""
        self.stats["batches"] += 1
        parsed = [(self.parse(item.gold, gold=True), [self.parse(r) for r in responses])
                  for item, responses in batch]
        canon: list[AST] = []
        pairs: list[tuple[AST, AST]] = []
        for gold, answers in parsed:
            c, p = self._plan(gold, answers)
            canon += c
            pairs += p
        self._run_checks(canon, pairs)
        return [self._grade_item(gold, answers) for gold, answers in parsed]

    def grade_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[Grade]:
        """Grades for (gold, response) pairs, each its own item: for `harness score` and tests."""
        batch = [(Item(id=str(i), gold=g), [r]) for i, (g, r) in enumerate(pairs)]
        return [grades[0] for grades in self.grade(batch)]

    def start(self) -> None:
        """Start the worker pool now (the run loop does, beside generation), not at the first check."""
        self.pool.start()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> "MathGrader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
