from itertools import combinations

import pytest

from harness.records import Grade
from harness.vote import pass_at_k, vote


def brute_pass_at_k(n: int, c: int, k: int) -> float:
    """Fraction of k-subsets of n samples (c correct) holding at least one correct one."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n,c,k", [(n, c, k) for n in range(1, 8) for c in range(n + 1) for k in range(1, n + 1)])
def test_pass_at_k_matches_enumeration(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(n, c, k))


def test_pass_at_k_large_n_is_exact():
    assert pass_at_k(1000, 1, 1) == pytest.approx(0.001)
    assert pass_at_k(200, 0, 100) == 0.0
    assert pass_at_k(200, 150, 100) == 1.0


@pytest.mark.parametrize("n,c,k", [(4, 5, 1), (4, 2, 0), (4, 2, 5), (3, -1, 1)])
def test_pass_at_k_rejects_bad_arguments(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def g(cls, verdict="incorrect", canonical=None):
    return Grade(extracted=canonical, canonical=canonical, verdict=verdict, cls=cls)


def test_vote_picks_largest_class_of_equivalent_answers():
    grades = [g(0, canonical="3"), g(1, "correct", "1/2"), g(1, "correct", "1/2"), g(2, canonical="7"), g(1, "correct", "1/2")]
    v = vote(grades)
    assert v.maj_correct and v.answer == "1/2" and v.winner == 1
    assert v.share == pytest.approx(3 / 5) and v.margin == pytest.approx(2 / 5)
    assert v.n_classes == 3 and v.pass_at_1 == pytest.approx(3 / 5)


def test_vote_tie_goes_to_class_seen_first_never_to_gold():
    # correct class appears second: the tie must go to the first-seen wrong answer
    v = vote([g(0, canonical="5"), g(1, "correct", "6"), g(1, "correct", "6"), g(0, canonical="5")])
    assert v.answer == "5" and not v.maj_correct and v.margin == 0.0


def test_unparseable_and_timeouts_do_not_vote_but_count():
    v = vote([g(None, "unparseable"), g(None, "timeout"), g(None, "timeout"), g(0, "correct", "2")])
    assert v.maj_correct and v.share == pytest.approx(0.25)
    assert (v.n_unparseable, v.n_timeout) == (1, 2)


def test_vote_with_no_answers_is_wrong():
    v = vote([g(None, "unparseable")] * 3)
    assert not v.maj_correct and v.answer is None and v.share == 0.0
