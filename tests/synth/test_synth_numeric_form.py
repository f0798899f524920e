"""Multiple choice -> numeric free response: reading choices, converting items, grading with the
recorded tolerance and unit, and the count on the real MMLU science file."""

import json
from fractions import Fraction

import pytest

from harness.records import Item
from harness.grading.math.tolerance import ToleranceGrader, strip_unit
from harness.synth.numeric_form import convert, read_choice

CHOICES = [
    ("550 nm", Fraction(550), "nm"),
    ("2 x 10^-6 N", Fraction(2, 10 ** 6), "N"),
    ("1.2 × 10^9 m/s", Fraction(1200000000), "m/s"),
    ("5.4 × 10–10 J", Fraction(54, 10 ** 11), "J"),  # a superscript lost in the data
    ("–165 V", Fraction(-165), "V"),
    ("1/2", Fraction(1, 2), ""),
    ("0.25mc^2", Fraction(1, 4), "mc^2"),
    ("c", Fraction(1), "c"),
    ("2,000 s", Fraction(2000), "s"),
    ("15%", Fraction(15), "%"),
    ("45°", Fraction(45), "°"),
    (".5", Fraction(1, 2), ""),
]
NOT_NUMBERS = ["10:00 PM", "(3/2) k T", "an average of 10 times", "50 Hz, 150 Hz, and 250 Hz only", "Hz 50"]


@pytest.mark.parametrize("text,value,unit", CHOICES)
def test_read_choice(text, value, unit):
    r = read_choice(text)
    assert r is not None and (r.value, r.unit) == (value, unit)


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_not_a_number(text):
    assert read_choice(text) is None


CONVERT = [
    # (question, choices, answer index, reason or None, gold, unit, rel_tol)
    ("White light ... Of the following, the most strongly reflected wavelength is",
     ["500 nm", "550 nm", "600 nm", "650 nm"], 2, "refers_to_choices", None, None, None),
    ("The speed of light in a dielectric with constant 4.0 is", ["1.2 x 10^9 m/s", "3.0 x 10^8 m/s",
     "1.5 x 10^8 m/s", "1.0 x 10^8 m/s"], 2, None, "150000000", "m/s", 0.02),
    ("A string resonates at", ["414 Hz", "427 Hz", "433 Hz", "440 Hz"], 1, None, "427", "Hz", 3 / 427),
    ("How many electrons?", ["2", "4", "6", "10"], 3, None, "10", "", 0.02),
    ("The ratio is", ["1/4", "1/3", "1/2", "2/3"], 1, None, "1/3", "", 0.02),
    ("The field at the center is", ["0", "9.0 × 10^4 N/C", "1.8 × 10^5 N/C", "7.2 × 10^5 N/C"], 0, None, "0",
     "N/C", 0.0),
    ("Which particle?", ["Neutrons", "Alpha particles", "Beta particles", "X-rays"], 0, "choices_not_numbers",
     None, None, None),
    ("The rms deviation", ["about 4", "about 3", "about 1", "about 0.1"], 1, "answer_not_number", None, None, None),
    ("Gap", ["6.0 e", "6.8 eV", "12.2 eV", "13.6 eV"], 0, "mixed_units", None, None, None),
    ("Time", ["0.25 A", "0.5 A", "2:00 AM", "4:00 AM"], 0, "distractor_not_number", None, None, None),
    ("Field", ["4.6 mT", "27 G", "5.4 mT", "3.8 mT"], 0, "mixed_units", None, None, None),
]


@pytest.mark.parametrize("question,choices,index,reason,gold,unit,rel_tol", CONVERT)
def test_convert(question, choices, index, reason, gold, unit, rel_tol):
    conv = convert("p/1", question, choices, index)
    assert conv.reason == reason
    if reason is None:
        item = conv.item
        assert (item.id, item.gold, item.meta["unit"]) == ("p/1/num", gold, unit)
        assert item.meta["rel_tol"] == pytest.approx(rel_tol)
        assert "following" not in item.fields["question"] and "single number" in item.fields["question"]
        if unit:
            assert unit in item.fields["question"] or "percent" in item.fields["question"]


def test_strip_unit_only_after_numbers():
    assert strip_unit("The answer is 550 nm.", "nm") == "The answer is 550."
    assert strip_unit("in nm units the answer is 550nm", "nm") == "in nm units the answer is 550"
    assert strip_unit("so 3 m/s", "m") == "so 3 m/s"  # `m` of m/s is not the unit m


def test_tolerance_grader_accepts_rounding_and_rejects_distractors():
    conv = convert("q", "Max distance?", ["0.024 m", "0.048 m", "0.121 m", "0.242 m"], 3).item
    exact = Item(id="e", gold="10", meta={})
    grader = ToleranceGrader()
    try:
        grades = grader.grade([(conv, ["The answer is 0.2425 m", "The answer is 0.121 m", "The answer is 0.242",
                                       "no idea"]),
                               (exact, ["The answer is 10", "The answer is 10.1"])])
    finally:
        grader.close()
    assert [g.verdict for g in grades[0]] == ["correct", "incorrect", "correct", "unparseable"]
    assert [g.verdict for g in grades[1]] == ["correct", "incorrect"]


def test_real_mmlu_science_conversions(shared_data):
    rows = [json.loads(line) for line in open(shared_data / "mmlu_science_test.jsonl", encoding="utf-8")]
    converted = [c.item for r in rows if (c := convert(r["id"], r["question"], r["choices"], r["answer_index"])).item]
    assert len(rows) == 1542
    assert len(converted) == 167  # measured; see the report
    assert len({i.id for i in converted}) == len(converted)
    assert all(0 <= i.meta["rel_tol"] <= 0.02 for i in converted)
