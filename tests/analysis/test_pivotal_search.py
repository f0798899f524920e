"""Pivotal token search, the algorithm alone: Subdivide against a fake oracle whose p(prefix) is known,
the split rule, the intervals and the pair rule."""

from __future__ import annotations

import math

import pytest

from harness.analysis.pivotal import (Budget, Estimate, Sample, delta_interval, pair_of, search, split_point,
                                      wilson)


def oracle(table: dict[str, float], n: int = 100):
    """An estimator whose p(prefix) is the table's value for the longest key the prefix starts with
    (exact shares of n rollouts); it records every prefix it was asked about."""
    asked: list[str] = []

    def estimate(points):
        out = {}
        for item, prefix in points:
            asked.append(prefix)
            key = max((k for k in table if prefix.startswith(k)), key=len)
            out[(item, prefix)] = Estimate(n, round(table[key] * n))
        return out

    return estimate, asked


def sample(text: str, correct: bool, key="s", item="i") -> Sample:
    return Sample(key, item, tuple(text), correct)  # one character per token


# (sample text, its verdict, p by prefix, the pivotal positions expected)
GOLDEN = [
    ("abcdefgh", False, {"": 0.5, "abc": 0.5, "abcd": 0.0}, [3]),          # d sinks it
    ("abcdefgh", True, {"": 0.5, "abcdef": 1.0}, [5]),                    # f saves it
    ("abcd", True, {"": 0.5, "a": 0.9, "ab": 0.1, "abc": 1.0}, [0, 1, 2]),  # up, down, up
    ("abcdefgh", False, {"": 0.5, "abcdefgh": 0.0}, [7]),                 # the last token (the verdict is p at the end)
    ("abcdefgh", True, {"": 0.9}, []),                                    # 0.9 -> 1: less than the gap
]


@pytest.mark.parametrize("text,correct,table,expected", GOLDEN)
def test_subdivide_finds_the_tokens_where_p_jumps(text, correct, table, expected):
    estimate, _ = oracle(table)
    result = search([sample(text, correct)], estimate, p_gap=0.2)
    assert [p.position for p in result.pivots] == expected
    for p in result.pivots:
        assert p.token == text[p.position]
        assert abs(p.delta) >= 0.2


def test_the_end_is_the_samples_own_verdict_and_never_rolled_out():
    estimate, asked = oracle({"": 0.5, "abcd": 0.0})
    search([sample("abcdefgh", False)], estimate, p_gap=0.2)
    assert "abcdefgh" not in asked


def test_prefixes_are_memoized_per_item_and_shared_by_its_samples():
    estimate, asked = oracle({"": 0.5, "abc": 0.5, "abcd": 0.0})
    a, b = sample("abcdefgh", False, key="a"), sample("abcdefgh", False, key="b")
    result = search([a, b], estimate, p_gap=0.2)
    assert sorted(p.key for p in result.pivots) == ["a", "b"]
    assert len(asked) == len(set(asked))  # each prefix of the item estimated once
    other = sample("abcdefgh", False, key="c", item="j")  # the same text under another item is not shared
    estimate2, asked2 = oracle({"": 0.5, "abc": 0.5, "abcd": 0.0})
    search([a, other], estimate2, p_gap=0.2)
    assert asked2.count("") == 2


def test_a_flat_sample_costs_one_estimate():
    estimate, asked = oracle({"": 0.0})
    result = search([sample("abcdefgh", False)], estimate, p_gap=0.2)
    assert result.pivots == () and asked == [""]


def test_the_budget_stops_the_search_with_what_it_found():
    calls = []
    base, _ = oracle({"": 0.5, "abcd": 0.0})

    def estimate(points):
        calls.append(points)
        if len(calls) > 2:
            raise Budget()
        return base(points)

    result = search([sample("abcdefgh", False)], estimate, p_gap=0.2)
    assert result.budget_hit and result.pivots == ()


@pytest.mark.parametrize("lo,hi,logprobs,expected", [
    (0, 8, None, 4),
    (3, 6, None, 4),
    (0, 4, [-0.1, -0.1, -0.1, -3.0], 3),    # the mass sits on the last token: split just before it
    (0, 4, [-3.0, -0.1, -0.1, -0.1], 1),
    (0, 4, [0.0, 0.0, 0.0, 0.0], 2),        # no mass: the token count
    (2, 4, [-9, -9, -1.0, -1.0], 3),
])
def test_split_at_the_middle_of_the_log_probability_mass(lo, hi, logprobs, expected):
    assert split_point(lo, hi, logprobs) == expected


def test_split_of_one_token_is_an_error():
    with pytest.raises(ValueError):
        split_point(3, 4)


def test_wilson_interval_matches_the_formula():
    lo, hi = wilson(8, 16)
    assert lo == pytest.approx(0.2800, abs=1e-3) and hi == pytest.approx(0.7200, abs=1e-3)
    assert wilson(0, 16)[0] == 0.0 and wilson(16, 16)[1] == 1.0


def test_delta_interval_covers_the_delta_and_is_exact_at_an_exact_end():
    lo, hi = delta_interval(Estimate(16, 8), Estimate(0, 0))
    assert lo < -0.5 < hi and hi == pytest.approx(-0.28, abs=1e-3)
    lo, hi = delta_interval(Estimate(16, 4), Estimate(16, 12))
    assert lo < 0.5 < hi and 0 < lo
    assert math.isclose(delta_interval(Estimate(0, 1), Estimate(0, 0))[0], -1.0)


# (sample's token, p before, p after, next tokens (token, rollouts, correct), chosen, rejected)
PAIRS = [
    (" 26", 0.5, 0.0, [(" 26", 8, 0), (" 24", 6, 6), (" 2", 2, 1)], " 24", " 26"),
    (" 24", 0.5, 1.0, [(" 24", 8, 8), (" 26", 5, 0), (" 25", 3, 0)], " 24", " 26"),
    (" 24", 0.5, 1.0, [(" 24", 8, 8), (" 26", 4, 0), (" 25", 4, 0), (" 2", 4, 3)], " 24", " 25"),  # ties: most extreme, then token
]


@pytest.mark.parametrize("token,before,after,nxt,chosen,rejected", PAIRS)
def test_pair_takes_the_other_side_from_the_rollouts(token, before, after, nxt, chosen, rejected):
    pair = pair_of(token, before, after, nxt)
    assert (pair.chosen, pair.rejected) == (chosen, rejected)
    assert pair.chosen != pair.rejected
    assert pair.chosen_p > before > pair.rejected_p


def test_no_pair_without_an_alternative_on_the_other_side():
    assert pair_of(" 24", 0.5, 1.0, [(" 24", 16, 16)]) is None
    assert pair_of(" 24", 0.5, 1.0, [(" 24", 8, 8), (" 26", 8, 6)]) is None  # 0.75 > 0.5: does not lower p
