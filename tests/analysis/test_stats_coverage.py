"""harness.analysis.stats by simulation: on synthetic paired data with a known truth, 95% intervals cover it
about 95% of the time, and the tests reject a true null about 5% of the time or less.

Each check draws M independent data sets from one seeded Generator, so the outcome is fixed. With
true coverage 0.95 the observed rate over M data sets has sd sqrt(0.95 * 0.05 / M) (0.0069 at
M = 1000); a tolerance of 4 sd (+- 0.028 at M = 1000) leaves room for the small-sample bias of
the percentile bootstrap (it runs slightly narrow at n = 200) while still catching an interval
that is wrong by a few points — a 90% or 99% interval mistaken for 95% fails."""

from __future__ import annotations

import math

import numpy as np

from harness.analysis import stats

NOMINAL = 0.95


def _tolerance(m: int, p: float = NOMINAL, k: float = 4.0) -> float:
    return k * math.sqrt(p * (1 - p) / m)


# Paired 0/1 outcomes: cell probabilities of (both right, only A, only B, neither).
CELLS = np.array([0.50, 0.10, 0.18, 0.22])
TRUE_A = CELLS[0] + CELLS[1]  # 0.60
TRUE_B = CELLS[0] + CELLS[2]  # 0.68
TRUE_DIFF = CELLS[1] - CELLS[2]  # -0.08


def _binary_pairs(rng: np.random.Generator, n: int, cells: np.ndarray = CELLS) -> tuple[np.ndarray, np.ndarray]:
    cell = rng.choice(4, size=n, p=cells)
    return np.isin(cell, (0, 1)), np.isin(cell, (0, 2))


def test_wilson_and_paired_bootstrap_cover_on_binary_outcomes() -> None:
    rng = np.random.default_rng(2024)
    m, n = 1000, 200
    cover_a = cover_b = cover_d = 0
    for _ in range(m):
        a, b = _binary_pairs(rng, n)
        r = stats.paired_binary(a, b, n_resamples=2000, seed=rng)
        cover_a += r.a.contains(TRUE_A)
        cover_b += r.b.contains(TRUE_B)
        cover_d += r.diff.contains(TRUE_DIFF)
    tol = _tolerance(m)
    for name, hits in (("A wilson", cover_a), ("B wilson", cover_b), ("paired diff", cover_d)):
        assert abs(hits / m - NOMINAL) < tol, f"{name}: coverage {hits / m:.3f}, want {NOMINAL} +- {tol:.3f}"


def test_paired_bootstrap_covers_pass_at_1_difference() -> None:
    """pass@1 with k = 4 samples: items differ in difficulty, the models share it (correlated),
    and per-item pass@1 is a noisy binomial estimate of the item's solve probability. The truth is
    the population mean of the solve probabilities, computed exactly from the generating law."""
    rng = np.random.default_rng(7)
    m, n, k = 500, 150, 4
    # Item solve probabilities: A = Beta(3, 2) draw u (mean 0.6), B = u ** 1.5 (harder).
    # E[u] = 3/5; E[u^1.5] = B(4.5, 2) / B(3, 2).
    true_a = 3 / 5
    true_b = math.exp(math.lgamma(4.5) + math.lgamma(2) - math.lgamma(6.5)) / math.exp(
        math.lgamma(3) + math.lgamma(2) - math.lgamma(5))
    true_diff = true_a - true_b
    cover_a = cover_d = 0
    for _ in range(m):
        u = rng.beta(3, 2, size=n)
        a = rng.binomial(k, u) / k
        b = rng.binomial(k, u**1.5) / k
        r = stats.paired_means(a, b, n_resamples=2000, seed=rng)
        cover_a += r.a.contains(true_a)
        cover_d += r.diff.contains(true_diff)
    tol = _tolerance(m)
    assert abs(cover_a / m - NOMINAL) < tol, cover_a / m
    assert abs(cover_d / m - NOMINAL) < tol, cover_d / m


def test_index_path_bootstrap_covers_continuous_difference() -> None:
    """Continuous per-item values (many distinct), so the chunked index-resampling path runs."""
    rng = np.random.default_rng(99)
    m, n = 300, 100
    hits = 0
    for _ in range(m):
        shared = rng.normal(size=n)
        a = shared + rng.normal(0.2, 1.0, size=n)
        b = shared + rng.normal(0.0, 1.0, size=n)
        hits += stats.paired_bootstrap_diff(a, b, n_resamples=1000, seed=rng).contains(0.2)
    assert abs(hits / m - NOMINAL) < _tolerance(m), hits / m


def test_wrong_confidence_would_be_caught() -> None:
    """The tolerance is tight enough to tell a 90% interval from a 95% one at these sizes."""
    rng = np.random.default_rng(5)
    m, n = 1000, 200
    hits = 0
    for _ in range(m):
        a, b = _binary_pairs(rng, n)
        hits += stats.paired_bootstrap_diff(a, b, confidence=0.90, n_resamples=1000, seed=rng).contains(TRUE_DIFF)
    assert abs(hits / m - NOMINAL) >= _tolerance(m), hits / m
    assert abs(hits / m - 0.90) < _tolerance(m, 0.90), hits / m


def test_tests_hold_their_level_under_the_null() -> None:
    """McNemar exact (conservative by construction) and the sign-flip test reject a true null at
    most about 5% of the time: the rate must not exceed 0.05 + 4 sd."""
    rng = np.random.default_rng(31)
    m, n = 1000, 120
    null_cells = np.array([0.5, 0.12, 0.12, 0.26])
    rej_mcnemar = rej_flip = 0
    for _ in range(m):
        a, b = _binary_pairs(rng, n, null_cells)
        t = stats.discordance(a, b)
        rej_mcnemar += stats.mcnemar_exact(t.a_only, t.b_only) < 0.05
        u = rng.beta(2, 2, size=n)
        x, y = rng.binomial(4, u) / 4, rng.binomial(4, u) / 4
        rej_flip += stats.sign_flip_test(x, y, n_resamples=1000, seed=rng) < 0.05
    limit = 0.05 + _tolerance(m, 0.05)
    assert rej_mcnemar / m <= limit, rej_mcnemar / m
    assert rej_flip / m <= limit, rej_flip / m


def test_mcnemar_power_matches_its_exact_value() -> None:
    """Simulated rejection rate of McNemar's exact test at n = 500 equals its power computed
    exactly from the generating law (discordant count ~ Bin(n, p_disc), A's share of them ~
    Bin(m, p_a_only / p_disc)) within 4 binomial sd."""
    from scipy.stats import binom

    rng = np.random.default_rng(3)
    m_sets, n = 400, 500
    rejections = 0
    for _ in range(m_sets):
        a, b = _binary_pairs(rng, n)
        t = stats.discordance(a, b)
        rejections += stats.mcnemar_exact(t.a_only, t.b_only) < 0.05
    p_disc = CELLS[1] + CELLS[2]
    q = CELLS[1] / p_disc
    power = 0.0
    for m in range(1, n + 1):
        k = np.arange(m + 1)
        p_values = np.minimum(1.0, 2 * binom.cdf(np.minimum(k, m - k), m, 0.5))
        power += binom.pmf(m, n, p_disc) * binom.pmf(k, m, q)[p_values < 0.05].sum()
    assert 0.8 < power < 0.99  # a meaningful check: neither trivial nor saturated
    assert abs(rejections / m_sets - power) < _tolerance(m_sets, power), (rejections / m_sets, power)


def test_stratified_bootstrap_covers_a_pooled_difference() -> None:
    """Two tasks of fixed sizes with different true differences (-0.15 on 120 items, +0.05 on 80):
    the pooled truth is their item-weighted mean, -0.07; the within-task bootstrap covers it."""
    rng = np.random.default_rng(17)
    m = 800
    tasks = ((120, np.array([0.45, 0.05, 0.20, 0.30])), (80, np.array([0.70, 0.10, 0.05, 0.15])))
    truth = sum(n * (c[1] - c[2]) for n, c in tasks) / sum(n for n, _ in tasks)
    labels = [i for i, (n, _) in enumerate(tasks) for _ in range(n)]
    hits = 0
    for _ in range(m):
        parts = [_binary_pairs(rng, n, c) for n, c in tasks]
        a = np.concatenate([p[0] for p in parts])
        b = np.concatenate([p[1] for p in parts])
        hits += stats.paired_binary(a, b, n_resamples=2000, seed=rng, strata=labels).diff.contains(truth)
    assert abs(hits / m - NOMINAL) < _tolerance(m), hits / m
