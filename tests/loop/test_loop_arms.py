"""What each arm picks, as data: the teachable rule (with its band), random, all-failed and easy."""

from __future__ import annotations

import pytest

from harness.loop.arms import select


def row(item_id, maj, rate, n_correct=None):
    return {"task": "t", "task_version": 1, "item_id": item_id, "maj_correct": maj, "pass_at_1": rate,
            "n_correct": n_correct if n_correct is not None else round(4 * rate), "n_unfinished": 0}


OWN = [row("0", False, 0.25), row("1", False, 0.0), row("2", False, 0.0), row("3", True, 0.75), row("4", True, 1.0),
       row("5", False, 0.5), row("6", False, 0.0), row("7", True, 1.0)]
TEACHER = [row("1", True, 1.0), row("2", True, 0.5), row("6", False, 0.0)]
KW = dict(seed=0, phase=1, band=(0.0, 1.0), min_teacher_rate=0.75)

CASES = [
    # arm, size, band, expected ids (None: only the count is fixed)
    ("teachable", None, (0.0, 1.0), ["0", "1", "5"]),
    ("teachable", None, (0.3, 0.8), ["1", "5"]),  # 0.25 is outside the band; the teacher's item stays
    ("teachable", 2, (0.0, 1.0), None),
    ("all-failed", 10, (0.0, 1.0), ["0", "1", "2", "5", "6"]),
    ("easy", 10, (0.0, 1.0), ["3", "4", "7"]),
]


@pytest.mark.parametrize("arm,size,band,expected", CASES)
def test_arm_rules(arm, size, band, expected):
    picks = select(arm, OWN, TEACHER, **{**KW, "band": band, "size": size})
    ids = [i for i, _ in picks]
    if expected is None:
        assert len(ids) == size and set(ids) <= {"0", "1", "5"}
    else:
        assert ids == expected


def test_teachable_reasons():
    assert dict(select("teachable", OWN, TEACHER, size=None, **{k: v for k, v in KW.items()})) == {
        "0": "own_samples", "1": "teacher", "5": "own_samples"}


def test_random_draws_as_many_as_teachable_from_the_whole_pool_and_depends_on_the_seed():
    draws = {tuple(i for i, _ in select("random", OWN, TEACHER, size=None, **{**KW, "seed": s})) for s in range(12)}
    assert all(len(d) == 3 and len(set(d)) == 3 for d in draws)
    assert len(draws) > 1  # seeds differ
    assert set().union(*draws) - {"0", "1", "5"}  # not only teachable items
    again = select("random", OWN, TEACHER, size=None, **KW)
    assert again == select("random", OWN, TEACHER, size=None, **KW)  # seeded: the same draw


def test_a_size_above_the_candidates_takes_them_all():
    assert len(select("easy", OWN, None, size=50, **KW)) == 3
