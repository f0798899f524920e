"""harness.analysis.stats against scipy reference values and exact enumeration."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from scipy import stats as sps

from harness.analysis import stats


# --- McNemar exact = two-sided binomial test on discordant pairs ------------------------------

@pytest.mark.parametrize(
    "a_only,b_only",
    [(0, 0), (0, 1), (1, 0), (3, 3), (0, 10), (10, 0), (2, 9), (40, 90), (90, 40), (49, 51),
     (1000, 1100), (5000, 5200), (0, 1500)],
)
def test_mcnemar_exact_matches_scipy_binomtest(a_only: int, b_only: int) -> None:
    m = a_only + b_only
    expected = 1.0 if m == 0 else sps.binomtest(a_only, m, 0.5, alternative="two-sided").pvalue
    assert stats.mcnemar_exact(a_only, b_only) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_mcnemar_exact_is_symmetric_and_bounded() -> None:
    for a, b in [(0, 7), (12, 30), (100, 101)]:
        assert stats.mcnemar_exact(a, b) == stats.mcnemar_exact(b, a)
        assert 0 < stats.mcnemar_exact(a, b) <= 1


def test_mcnemar_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        stats.mcnemar_exact(-1, 3)


# --- Wilson interval ---------------------------------------------------------------------------

@pytest.mark.parametrize("k,n", [(0, 10), (10, 10), (1, 10), (300, 500), (350, 500), (7, 1000), (999, 1000)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_scipy(k: int, n: int, confidence: float) -> None:
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    got = stats.wilson_interval(k, n, confidence)
    assert got.estimate == k / n
    assert got.low == pytest.approx(ref.low, abs=1e-12)
    assert got.high == pytest.approx(ref.high, abs=1e-12)
    assert 0.0 <= got.low <= got.estimate <= got.high <= 1.0


@pytest.mark.parametrize("bad", [(0, 0), (-1, 5), (6, 5)])
def test_wilson_rejects_bad_counts(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        stats.wilson_interval(*bad)


# --- bootstrap intervals vs scipy.stats.bootstrap ---------------------------------------------

def _paired_binary_sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cell = rng.choice(4, size=n, p=[0.5, 0.1, 0.2, 0.2])  # both, a only, b only, neither
    return np.isin(cell, (0, 1)).astype(float), np.isin(cell, (0, 2)).astype(float)


def test_paired_bootstrap_matches_scipy_percentile_bootstrap() -> None:
    a, b = _paired_binary_sample(400, seed=3)
    ref = sps.bootstrap((a, b), lambda x, y, axis: np.mean(x - y, axis=axis), paired=True,
                        method="percentile", n_resamples=10_000, random_state=np.random.default_rng(1),
                        vectorized=True).confidence_interval
    got = stats.paired_bootstrap_diff(a, b, seed=2)
    # Two independent Monte Carlo runs of 10,000 resamples: the 2.5% / 97.5% quantiles of a
    # distribution with sd ~0.025 move by about 0.001 between runs; 0.005 is > 4 such sds.
    assert got.estimate == pytest.approx(np.mean(a - b))
    assert got.low == pytest.approx(ref.low, abs=0.005)
    assert got.high == pytest.approx(ref.high, abs=0.005)


def test_mean_interval_matches_scipy_percentile_bootstrap() -> None:
    rng = np.random.default_rng(5)
    x = rng.binomial(4, 0.6, size=300) / 4  # pass@1 with k = 4
    ref = sps.bootstrap((x,), np.mean, method="percentile", n_resamples=10_000,
                        random_state=np.random.default_rng(9)).confidence_interval
    got = stats.mean_interval(x, seed=4)
    assert got.low == pytest.approx(ref.low, abs=0.005)
    assert got.high == pytest.approx(ref.high, abs=0.005)


def test_large_sample_bootstrap_agrees_with_normal_approximation() -> None:
    a, b = _paired_binary_sample(5000, seed=8)
    d = a - b
    half = 1.959964 * d.std(ddof=1) / np.sqrt(d.size)
    got = stats.paired_bootstrap_diff(a, b, seed=0)
    assert got.low == pytest.approx(d.mean() - half, abs=0.002)
    assert got.high == pytest.approx(d.mean() + half, abs=0.002)


def test_multinomial_and_index_paths_give_the_same_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(11).binomial(8, 0.55, size=500) / 8
    fast = stats.bootstrap_means(x, 20_000, seed=1)
    monkeypatch.setattr(stats, "_UNIQUE_MAX", 0)
    slow = stats.bootstrap_means(x, 20_000, seed=2)
    # Same sampling distribution: sd of the mean is ~0.011; quantiles and moments agree well within
    # Monte Carlo error of 20,000 draws.
    assert fast.mean() == pytest.approx(slow.mean(), abs=0.0005)
    assert fast.std() == pytest.approx(slow.std(), rel=0.03)
    for q in (0.025, 0.5, 0.975):
        assert np.quantile(fast, q) == pytest.approx(np.quantile(slow, q), abs=0.002)


def test_index_path_chunks_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(0).normal(size=300)
    one = stats.bootstrap_means(x, 1000, seed=3)
    monkeypatch.setattr(stats, "_CHUNK_CELLS", 300 * 7)  # 7 resamples per chunk
    many = stats.bootstrap_means(x, 1000, seed=3)
    np.testing.assert_allclose(one, many)


# --- sign-flip permutation test ---------------------------------------------------------------

def _exact_sign_flip(d: np.ndarray) -> float:
    obs = abs(d.sum())
    hits = sum(abs(np.dot(s, d)) >= obs - 1e-12 for s in itertools.product((-1, 1), repeat=d.size))
    return hits / 2**d.size


def test_sign_flip_matches_exact_enumeration() -> None:
    d = np.array([0.25, 0.5, -0.25, 0.75, 0.25, 1.0, -0.5, 0.25, 0.5, 0.0, 0.25, -0.25])
    b = np.zeros_like(d)
    exact = _exact_sign_flip(d[d != 0])
    got = stats.sign_flip_test(d, b, n_resamples=40_000, seed=1)
    assert got == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 40_000) + 1e-4)


def test_sign_flip_on_binary_outcomes_estimates_mcnemar() -> None:
    a, b = _paired_binary_sample(300, seed=21)
    t = stats.discordance(a, b)
    exact = stats.mcnemar_exact(t.a_only, t.b_only)
    got = stats.sign_flip_test(a, b, n_resamples=40_000, seed=0)
    assert got == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 40_000) + 1e-4)


def test_sign_flip_index_path_matches_exact_enumeration(monkeypatch: pytest.MonkeyPatch) -> None:
    d = np.random.default_rng(2).normal(0.3, 1.0, size=12)
    exact = _exact_sign_flip(d)
    monkeypatch.setattr(stats, "_UNIQUE_MAX", 0)  # force random sign matrices
    got = stats.sign_flip_test(d, np.zeros_like(d), n_resamples=40_000, seed=1)
    assert got == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 40_000) + 1e-4)


def test_sign_flip_no_differences_is_one() -> None:
    assert stats.sign_flip_test([1, 0, 1], [1, 0, 1]) == 1.0


# --- counts, determinism, validation -----------------------------------------------------------

def test_discordance_and_agreement() -> None:
    a = [1, 1, 0, 0, 1, 0]
    b = [1, 0, 1, 0, 1, 1]
    t = stats.discordance(a, b)
    assert (t.both, t.a_only, t.b_only, t.neither) == (2, 1, 2, 1)
    assert t.agreement == pytest.approx(3 / 6) == stats.agreement_rate(a, b)
    with pytest.raises(ValueError):
        stats.discordance([0.5], [1])


def test_paired_binary_fields() -> None:
    a, b = _paired_binary_sample(500, seed=4)
    r = stats.paired_binary(a.astype(bool), b.astype(bool), n_resamples=2000, seed=7)
    t = stats.discordance(a, b)
    assert r.n == 500 and (r.a_only, r.b_only) == (t.a_only, t.b_only)
    assert r.ties == t.both + t.neither and r.agreement == t.agreement
    assert r.a.estimate == a.mean() and r.b.estimate == b.mean()
    assert r.diff.estimate == pytest.approx(a.mean() - b.mean())
    assert r.diff.low <= r.diff.estimate <= r.diff.high
    assert r.p_value == stats.mcnemar_exact(t.a_only, t.b_only)
    assert r.p_method == "mcnemar-exact" and r.n_resamples == 2000


def test_same_seed_same_result_and_no_global_state() -> None:
    a, b = _paired_binary_sample(200, seed=1)
    np.random.seed(123)
    random.seed(123)
    np_state, py_state = np.random.get_state(), random.getstate()
    r1 = stats.paired_means(a, b, n_resamples=3000, seed=5)
    r2 = stats.paired_means(a, b, n_resamples=3000, seed=5)
    r3 = stats.paired_means(a, b, n_resamples=3000, seed=6)
    assert r1 == r2
    assert r1 != r3
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1]) and after[2:] == np_state[2:]
    assert random.getstate() == py_state


def test_degenerate_inputs() -> None:
    iv = stats.paired_bootstrap_diff([1, 1, 1], [0, 0, 0], n_resamples=100)
    assert (iv.low, iv.estimate, iv.high) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="empty"):
        stats.paired_binary([], [])
    with pytest.raises(ValueError, match="one value per item"):
        stats.paired_means([1, 0], [1])
    with pytest.raises(ValueError, match="NaN"):
        stats.mean_interval([0.5, float("nan")])
    with pytest.raises(TypeError):
        stats.bootstrap_means([1.0, 0.0], 10, seed=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        stats.wilson_interval(1, 2, confidence=1.0)


# --- size efficiency ---------------------------------------------------------------------------

def _iv(low: float, high: float) -> stats.Interval:
    return stats.Interval((low + high) / 2, low, high, 0.95, "test")


@pytest.mark.parametrize(
    "params_a,params_b,low,high,verdict,smaller",
    [
        (14e9, 70e9, -0.03, 0.01, "indistinguishable", "a"),
        (14e9, 70e9, -0.12, -0.08, "larger_better", "a"),
        (14e9, 70e9, 0.01, 0.05, "smaller_better", "a"),
        (70e9, 14e9, 0.01, 0.05, "larger_better", "b"),  # A (larger) ahead
        (70e9, 14e9, -0.05, -0.01, "smaller_better", "b"),
        (7e9, 7e9, -0.05, -0.01, "same_size", None),
    ],
)
def test_size_efficiency_verdicts(params_a, params_b, low, high, verdict, smaller) -> None:
    se = stats.size_efficiency(0.6, 0.7, params_a, params_b, _iv(low, high))
    assert se.verdict == verdict and se.smaller == smaller
    assert se.size_ratio == pytest.approx(max(params_a, params_b) / min(params_a, params_b))
    assert se.a_per_log_param == pytest.approx(0.6 / np.log10(params_a))
    assert se.b_per_log_param == pytest.approx(0.7 / np.log10(params_b))


def test_size_efficiency_equivalence_margin() -> None:
    assert stats.size_efficiency(0.7, 0.7, 14e9, 70e9, _iv(-0.015, 0.01), margin=0.02).equivalent
    assert not stats.size_efficiency(0.7, 0.7, 14e9, 70e9, _iv(-0.03, 0.01), margin=0.02).equivalent
    with pytest.raises(ValueError):
        stats.score_per_log_param(0.5, 1)


# --- stratified bootstrap ----------------------------------------------------------------------

def test_stratified_bootstrap_matches_the_analytic_spread() -> None:
    """Two tasks with very different accuracies: resampling within tasks removes the spurious
    variance of random task proportions. The stratified sd matches
    sqrt(sum_s w_s^2 var_s / n_s) (population variances, as the bootstrap uses); the unstratified
    one matches sqrt(var_all / n) and is larger."""
    rng = np.random.default_rng(12)
    easy = (rng.random(300) < 0.9).astype(float)
    hard = (rng.random(200) < 0.2).astype(float)
    x = np.concatenate([easy, hard])
    labels = ["easy"] * 300 + ["hard"] * 200
    strat = stats.bootstrap_means(x, 40_000, seed=1, strata=labels)
    plain = stats.bootstrap_means(x, 40_000, seed=1)
    sd_strat = np.sqrt(sum((p.size / x.size) ** 2 * p.var() / p.size for p in (easy, hard)))
    assert strat.mean() == pytest.approx(x.mean(), abs=0.001)
    assert strat.std() == pytest.approx(sd_strat, rel=0.02)
    assert plain.std() == pytest.approx(x.std() / np.sqrt(x.size), rel=0.02)
    assert plain.std() > 1.3 * strat.std()


def test_strata_must_label_every_item() -> None:
    with pytest.raises(ValueError, match="label every value"):
        stats.bootstrap_means([1.0, 0.0, 1.0], 10, strata=["t", "t"])
    r = stats.paired_binary([1, 0, 1, 1], [0, 0, 1, 0], n_resamples=200, strata=["a", "a", "b", "b"])
    assert r.diff.method == "stratified-paired-bootstrap"
