"""Multiple choice -> free response: items whose choices are all numbers (with one shared unit).

A choice item converts when every choice reads as a number with the same optional unit (`550 nm`,
`2 x 10^-6 N`, `1/2`, `15%`), the values are distinct, and the stem does not lean on the choices
(`which of the following`, `above`, `below`). The free-response item asks the stem and "answer with
a single number (in UNIT)"; its gold is the correct choice's exact value. A tolerance is recorded in
`meta.rel_tol`: half the smallest relative gap between the correct value and a distractor, capped at
2%, so a rounded answer is accepted and no distractor is. Choices are read by a regular expression
into exact fractions; nothing is evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping, Sequence

from harness.records import Item

from harness.synth.expr import decimal_value, format_decimal

MAX_REL_TOL = Fraction(1, 50)
_CHOICE = re.compile(
    r"^\s*\$?\s*(?P<sign>[-−–])?(?P<mant>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)?"
    r"(?:\s*/\s*(?P<den>\d+))?"
    r"(?:\s*(?:x|×|\*|\\times|\\cdot)\s*10\s*(?:\^\s*\{?\s*(?P<exp>[-−–+]?\d{1,3})\s*\}?|(?P<dash>[-−–]\d{1,3}))"
    r"|[eE](?P<e>[-+]?\d{1,3}))?"
    r"\s*(?P<unit>\S*?)\s*\.?\s*$"
)
_UNIT = re.compile(r"^(?:%|°[CF]?|[A-Za-zµμΩÅ][A-Za-zµμΩÅ°·/\-]*(?:\^-?\d)?(?:[/·][A-Za-zµμΩ]+(?:\^-?\d)?)*)$")
_LEANS_ON_CHOICES = re.compile(r"\b(?:following|above|below|these|listed|options?|choices?)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NumberWithUnit:
    value: Fraction
    unit: str  # "" when none


def read_choice(text: str) -> NumberWithUnit | None:
    """The number and unit of a choice such as `2.5 x 10^-3 m/s`, or None when it is not one."""
    m = _CHOICE.match(text)
    if m is None:
        return None
    unit = m.group("unit") or ""
    if unit and not _UNIT.match(unit):
        return None
    if m.group("mant") is None:  # a bare unit (`c`, `mc^2`, `k`) is one of it
        if not unit or m.group("den") or m.group("exp") or m.group("dash") or m.group("e"):
            return None
        return NumberWithUnit(Fraction(-1 if m.group("sign") else 1), unit)
    value = decimal_value(m.group("mant").replace(",", ""))
    if m.group("den"):
        den = int(m.group("den"))
        if den == 0:
            return None
        value /= den
    exp = m.group("exp") or m.group("dash") or m.group("e")
    if exp is not None:
        value *= Fraction(10) ** int(exp.replace("−", "-").replace("–", "-"))
    if m.group("sign"):
        value = -value
    return NumberWithUnit(value, unit)


@dataclass(frozen=True, slots=True)
class Conversion:
    """A converted item, or the reason it does not convert."""

    item: Item | None
    reason: str | None = None


def tolerance(correct: Fraction, others: Sequence[Fraction]) -> Fraction:
    """Half the smallest relative gap to a distractor, at most 2%; 0 (exact) when the answer is 0."""
    if correct == 0:
        return Fraction(0)
    gaps = [abs(o - correct) / abs(correct) for o in others]
    return min([MAX_REL_TOL] + [g / 2 for g in gaps])


def spell_gold(value: Fraction) -> str:
    """Exact decimal when it terminates within 12 places, else `p/q`."""
    s = format_decimal(value, 12)
    if decimal_value(s.lstrip("-")) * (-1 if s.startswith("-") else 1) == value:
        return s
    return f"{value.numerator}/{value.denominator}"


def convert(parent_id: str, question: str, choices: Sequence[str], answer_index: int,
            meta: Mapping[str, Any] | None = None) -> Conversion:
    """The free-response form of one choice item (see the module docstring)."""
    if not 0 <= answer_index < len(choices):
        return Conversion(None, "bad_answer_index")
    if not any(ch.isdigit() for c in choices for ch in c):
        return Conversion(None, "choices_not_numbers")
    read = [read_choice(c) for c in choices]
    if read[answer_index] is None:
        return Conversion(None, "answer_not_number")
    if any(r is None for r in read):
        return Conversion(None, "distractor_not_number")
    # A bare 0 needs no unit: `0`, `9.0 x 10^4 N/C`, ... share the others' unit.
    units = {r.unit for r in read if r is not None and not (r.value == 0 and not r.unit)}
    if len(units) != 1:
        return Conversion(None, "mixed_units")
    values = [r.value for r in read if r is not None]
    if len(set(values)) != len(values):
        return Conversion(None, "equal_values")
    stem = re.sub(r"^\s*(?:Of|Among) the following(?: choices| options)?,\s*", "", question.strip())
    stem = stem[:1].upper() + stem[1:]
    if _LEANS_ON_CHOICES.search(stem):
        return Conversion(None, "refers_to_choices")
    correct = values[answer_index]
    unit = units.pop()
    rel_tol = tolerance(correct, [v for i, v in enumerate(values) if i != answer_index])
    unit_words = {"%": "percent", "°": "degrees"}.get(unit, unit)
    ask = f"Answer with a single number{' in ' + unit_words if unit else ''}, without the unit."
    item = Item(
        id=f"{parent_id}/num", gold=spell_gold(correct),
        fields={"question": f"{stem}\n\n{ask}"},
        meta={"synth": "numeric_form", "parent": parent_id, "unit": unit, "rel_tol": float(rel_tol),
              "choices": list(choices), "answer_index": answer_index, **dict(meta or {})},
    )
    return Conversion(item)
