"""Numeric answers (GSM8K-style): extraction from free text and exact comparison as fractions.

Extraction order, first match wins: the last `\\boxed{...}`, the last `#### N`, the last
"the answer is N" / "final answer: N", the last line of the form `A: N`, else the last number in the
text. Numbers lose thousands separators, `$`, `%`-free units and trailing punctuation; they are
compared exactly as rationals (`Fraction`), never through eval.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Sequence

from ..records import Grade, Item
from .base import classes_by_key

_NUM = r"[-−]?\$?\s*(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?|[-−]?\.\d+"
_NUM_RE = re.compile(_NUM)
_PATTERNS = [
    re.compile(r"####\s*(?P<a>[^\n]*)"),
    re.compile(r"(?:the\s+)?(?:final\s+)?answer\s*(?:is|:)\s*[:\s]*(?P<a>[^\n]*)", re.IGNORECASE),
    re.compile(r"^\s*A\s*:\s*(?P<a>[^\n]*)$", re.MULTILINE),
]
_FRAC_RE = re.compile(r"\\[dt]?frac\{\s*(-?\d+)\s*\}\{\s*(\d+)\s*\}")
_MAX_DIGITS = 200  # longer "numbers" are not answers; refusing them keeps Fraction cheap


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} or \\fbox{...}, with nested braces balanced."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


def extract_number(text: str) -> str | None:
    """The answer's number as written (cleaned), or None when the text holds no number.
    `\\frac{a}{b}` with integer parts reads as a/b."""
    text = _FRAC_RE.sub(r"\1/\2", text)
    boxed = last_boxed(text)
    candidates: list[str] = []
    if boxed is not None:
        candidates.append(boxed)
    for pat in _PATTERNS:
        matches = list(pat.finditer(text))
        if matches:
            candidates.append(matches[-1].group("a"))
    for cand in candidates:
        nums = _NUM_RE.findall(cand)
        if nums:
            return _clean(nums[0])
    nums = _NUM_RE.findall(text)
    return _clean(nums[-1]) if nums else None


def _clean(raw: str) -> str:
    return raw.replace("−", "-").replace("$", "").replace(",", "").replace(" ", "")


def to_fraction(s: str | None) -> Fraction | None:
    if s is None:
        return None
    s = _clean(s.strip()).rstrip(".")
    if not s or sum(ch.isdigit() for ch in s) > _MAX_DIGITS:
        return None
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def canonical_number(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


class NumericGrader:
    """Exact rational comparison; equal values vote together (so 18, 18.0 and 18.00 are one class)."""

    def grade_one(self, response: str, gold: Fraction | None) -> Grade:
        extracted = extract_number(response)
        value = to_fraction(extracted)
        if value is None:
            return Grade(extracted, None, "unparseable", None)
        verdict = "correct" if gold is not None and value == gold else "incorrect"
        return Grade(extracted, canonical_number(value), verdict, None)

    def grade(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[Grade]]:
        out = []
        for item, responses in batch:
            gold = to_fraction(item.gold)
            grades = [self.grade_one(r, gold) for r in responses]
            classes = classes_by_key([g.canonical for g in grades])
            out.append([Grade(g.extracted, g.canonical, g.verdict, c, g.detail) for g, c in zip(grades, classes)])
        return out

    def close(self) -> None:
        pass
