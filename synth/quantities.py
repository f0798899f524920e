"""Numbers written in a word problem: where they are, how they are spelled, whether a variant may
change them, and how a new value is drawn and spelled in the same style.

A number may be substituted only when changing it cannot silently change something else: numbers in
fractions (`1/2`), clock times (`3:30`), ordinals (`2nd`), years (`1995`), phone-like runs (`555-1234`)
and the values 0 and 1 stay fixed. Number words (`three`, `half`, `dozen`) are never rewritten; their
values are remembered so that a calculation constant can be explained by them.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from fractions import Fraction

from harness.synth.expr import decimal_value

_NUMBER = re.compile(r"(?<![\w.,/:])(?P<int>\d{1,3}(?:,\d{3})+|\d+|(?=\.\d))(?P<frac>\.\d+)?(?![\w]|\.\d|,\d{3}|/\d|:\d)")
_FRACTION = re.compile(r"(?<![\w.])(\d+)/(\d+)(?![\w.])")
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)\b")
_PERCENT_AFTER = re.compile(r"\s*(?:%|percent\b|per cent\b)", re.IGNORECASE)

# Values of number words; "half" explains /2 and *0.5, "dozen" explains 12.
WORD_VALUES: dict[str, tuple[Fraction, ...]] = {
    "zero": (Fraction(0),), "one": (Fraction(1),), "two": (Fraction(2),), "three": (Fraction(3),),
    "four": (Fraction(4),), "five": (Fraction(5),), "six": (Fraction(6),), "seven": (Fraction(7),),
    "eight": (Fraction(8),), "nine": (Fraction(9),), "ten": (Fraction(10),), "eleven": (Fraction(11),),
    "twelve": (Fraction(12),), "thirteen": (Fraction(13),), "fourteen": (Fraction(14),),
    "fifteen": (Fraction(15),), "sixteen": (Fraction(16),), "seventeen": (Fraction(17),),
    "eighteen": (Fraction(18),), "nineteen": (Fraction(19),), "twenty": (Fraction(20),),
    "thirty": (Fraction(30),), "forty": (Fraction(40),), "fifty": (Fraction(50),), "sixty": (Fraction(60),),
    "seventy": (Fraction(70),), "eighty": (Fraction(80),), "ninety": (Fraction(90),), "hundred": (Fraction(100),),
    "thousand": (Fraction(1000),), "million": (Fraction(1000000),),
    "half": (Fraction(2), Fraction(1, 2)), "halves": (Fraction(2), Fraction(1, 2)),
    "twice": (Fraction(2),), "double": (Fraction(2),), "doubles": (Fraction(2),), "pair": (Fraction(2),),
    "triple": (Fraction(3),), "thrice": (Fraction(3),), "third": (Fraction(3), Fraction(1, 3)),
    "thirds": (Fraction(3), Fraction(1, 3)), "quarter": (Fraction(4), Fraction(1, 4)),
    "quarters": (Fraction(4), Fraction(1, 4)), "fourth": (Fraction(4), Fraction(1, 4)),
    "fifth": (Fraction(5), Fraction(1, 5)), "fifths": (Fraction(5), Fraction(1, 5)),
    "tenth": (Fraction(10), Fraction(1, 10)), "tenths": (Fraction(10), Fraction(1, 10)), "dozen": (Fraction(12),), "dozens": (Fraction(12),),
    "week": (Fraction(7),), "weeks": (Fraction(7),), "hour": (Fraction(60),), "hours": (Fraction(60),),
    "minute": (Fraction(60),), "minutes": (Fraction(60),), "year": (Fraction(12), Fraction(52), Fraction(365)),
    "years": (Fraction(12), Fraction(52), Fraction(365)), "day": (Fraction(24),), "days": (Fraction(24),),
    "month": (Fraction(30),), "months": (Fraction(12), Fraction(30)), "percent": (Fraction(100),),
    "cents": (Fraction(100),), "cent": (Fraction(100),), "feet": (Fraction(12),), "foot": (Fraction(12),),
    "yard": (Fraction(3),), "yards": (Fraction(3),), "pound": (Fraction(16),), "pounds": (Fraction(16),),
    "gallon": (Fraction(4), Fraction(128)), "gallons": (Fraction(4), Fraction(128)),
    "kilogram": (Fraction(1000),), "kilograms": (Fraction(1000),), "meter": (Fraction(100),),
    "meters": (Fraction(100),), "kilometer": (Fraction(1000),), "kilometers": (Fraction(1000),),
    "liter": (Fraction(1000),), "liters": (Fraction(1000),), "decade": (Fraction(10),), "decades": (Fraction(10),),
    "century": (Fraction(100),), "seconds": (Fraction(60),), "second": (Fraction(60), Fraction(2)),
}
_WORD_RE = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True, slots=True)
class Quantity:
    """One number in the text: span, spelling and value."""

    start: int
    end: int
    text: str
    value: Fraction
    decimals: int
    commas: bool
    percent: bool  # followed by % or "percent"
    fixed: str | None  # why it may not change; None when it may


def find_quantities(text: str) -> list[Quantity]:
    """Every digit-written number in `text`, left to right."""
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0)
        value = decimal_value(raw.replace(",", ""))
        frac = m.group("frac") or ""
        before, after = text[max(0, m.start() - 1): m.start()], text[m.end(): m.end() + 3]
        fixed = None
        if value in (0, 1):
            fixed = "zero or one"
        elif _ORDINAL.match(text, m.end() - 1):
            fixed = "ordinal"
        elif before == "/" or after.startswith("/"):
            fixed = "fraction"
        elif before == ":" or after.startswith(":"):
            fixed = "clock time"
        elif re.match(r"-\d", after) or re.search(r"\d-$", text[max(0, m.start() - 2): m.start()]):
            fixed = "digit run"
        elif not frac and "," not in raw and len(raw) == 4 and 1800 <= int(raw) <= 2100:
            fixed = "year"
        elif len(raw.replace(",", "").replace(".", "")) > 12:
            fixed = "too long"
        out.append(Quantity(m.start(), m.end(), raw, value, len(frac) - 1 if frac else 0, "," in raw,
                            bool(_PERCENT_AFTER.match(text, m.end())), fixed))
    return out


def word_values(text: str) -> set[Fraction]:
    """Values that number words and unit words in `text` can explain as calculation constants."""
    found: set[Fraction] = set()
    for w in _WORD_RE.findall(text):
        found.update(WORD_VALUES.get(w.lower(), ()))
    return found


def fraction_values(text: str) -> set[Fraction]:
    """Values of fractions written with a slash (`1/4` -> 1/4)."""
    return {Fraction(int(a), int(b)) for a, b in _FRACTION.findall(text) if int(b) != 0 and len(a + b) < 10}


def _granularity(q: Quantity) -> Fraction:
    """The coarsest step the original value sits on (1000, 500, 100, 50, 10, 5, 1, 0.5, 0.25, 0.1...):
    round numbers stay round."""
    v = q.value
    if q.decimals:
        # The coarsest step that still leaves room to move (v / g >= 4): .5 moves in tenths, 12.50 in halves.
        finest = Fraction(1, 10 ** q.decimals)
        steps = [g for g in (Fraction(1), Fraction(1, 2), Fraction(1, 4), Fraction(1, 10), Fraction(1, 20),
                             Fraction(1, 100)) if (v / g).denominator == 1 and g >= finest]
        roomy = [g for g in steps if v / g >= 4]
        return roomy[0] if roomy else (steps[-1] if steps else finest)
    g = Fraction(1)
    for t in range(1, 12):
        for step in (Fraction(10 ** t), Fraction(5 * 10 ** (t - 1))):
            if v % step == 0 and v > step:
                g = max(g, step)
    return g


def draw_value(q: Quantity, rng: random.Random) -> Fraction:
    """A new value near the original: same granularity, about 0.5x to 1.5x (wider for small counts),
    never below 2 for integers of 2 or more, percentages kept below 100 when they were."""
    g = _granularity(q)
    n = q.value / g  # integral
    lo = max(1, math.ceil(n * Fraction(1, 2)))
    hi = max(int(n) + 3 if n < 10 else int(n) + 1, math.floor(n * Fraction(3, 2)))
    for _ in range(20):
        new = g * rng.randint(lo, hi)
        if q.decimals == 0 and q.value >= 2 and new < 2:
            continue
        if q.percent and q.value < 100 and new >= 100:
            continue
        if q.value.denominator != 1 and new.denominator == 1:
            continue  # 1.5 hours does not become 1.0 hours
        if new != q.value:
            return new
    return q.value


def spell(value: Fraction, like: Quantity) -> str:
    """`value` written as `like` was: same number of decimals, thousands separators if it had them."""
    if like.decimals:
        scaled = value * 10 ** like.decimals
        if scaled.denominator != 1:
            raise ValueError(f"{value} has more than {like.decimals} decimals")
        s = str(abs(int(scaled))).rjust(like.decimals + 1, "0")
        whole, frac = s[:-like.decimals], s[-like.decimals:]
    else:
        if value.denominator != 1:
            raise ValueError(f"{value} is not an integer")
        whole, frac = str(abs(value.numerator)), ""
    if like.commas:
        whole = f"{int(whole):,}"
    if like.text.startswith(".") and whole == "0" and frac:
        whole = ""  # `.5 hours` stays in its style: `.75 hours`
    return ("-" if value < 0 else "") + whole + (f".{frac}" if frac else "")
