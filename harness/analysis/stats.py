"""Paired statistics for two models scored on the same items.

Shared by `harness compare`, the nightly regression check and the leaderboard, so every number a
user sees about "is the difference real?" comes from one place. Pure functions over plain sequences;
nothing here knows about tasks, models or the store.

Conventions
- Differences are always A minus B (`mean(a) - mean(b)`): negative means A scores lower.
- Intervals are two-sided at `confidence` (default 95%).
- Binary outcomes (maj@k correct or not) get Wilson score intervals; means of per-item values in
  [0, 1] (pass@1, pass@k) get percentile bootstrap intervals over items.
- The difference gets a *paired* percentile bootstrap: items are resampled with replacement and both
  models' values of a drawn item travel together, so the correlation between the models (they find
  the same items hard) narrows the interval as it should. Default `DEFAULT_RESAMPLES` = 10,000.
  Pooled over several tasks, pass `strata` (the task of each item): items are then resampled within
  their task, which keeps each task's size fixed, as it is by design.
- Randomness is local: every function takes `seed` (an int or a `numpy.random.Generator`) and never
  touches global state, so the same inputs and seed give the same interval.
- Binary outcomes are tested with McNemar's exact test (two-sided binomial test with p = 1/2 on the
  discordant pairs). Per-item means are tested with a paired sign-flip permutation test, of which
  McNemar's exact test is the special case for 0/1 outcomes.

Speed: resampling n items uniformly is the same, in distribution, as drawing a multinomial count for
each distinct value. Per-item values here take few distinct values (0/1 outcomes, pass@1 = c/k), so
the bootstrap costs O(resamples x distinct values), not O(resamples x items). Many distinct values
fall back to gathering resampled indices in chunks of about `_CHUNK_CELLS` cells, bounding memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, Sequence

import numpy as np

DEFAULT_RESAMPLES = 10_000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
# Distinct-value count up to which the bootstrap draws multinomial counts instead of indices.
_UNIQUE_MAX = 64
# Resamples x items per chunk on the index-gathering path (~16 MB of int64 indices).
_CHUNK_CELLS = 2_000_000
# Values closer than this are one value (pass@1 differences such as 0.6-0.4 vs 0.4-0.2).
_DECIMALS = 12

Seed = int | np.random.Generator
Strata = Sequence[object] | np.ndarray | None  # one label per item (e.g. its task), or None


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with a two-sided interval around it."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True, slots=True)
class Paired:
    """Everything about two models on the same n items, under one metric.

    `a_only` / `b_only` count items where A's value is higher / B's is higher: for 0/1 outcomes these
    are exactly the items only A solves / only B solves. `agreement` is the share of items on which
    the two values are equal (both right or both wrong, for 0/1 outcomes)."""

    n: int
    a: Interval
    b: Interval
    diff: Interval  # A - B, paired bootstrap
    p_value: float
    p_method: str
    a_only: int
    b_only: int
    ties: int
    agreement: float
    n_resamples: int


def rng_from(seed: Seed) -> np.random.Generator:
    """A Generator from an int seed, or the Generator itself (then the caller owns its state)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _as_1d(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: no items to compute a statistic over")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return arr


def _pair(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = _as_1d(a, "a"), _as_1d(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"paired data must have one value per item for both models: {x.size} vs {y.size}")
    return x, y


# --- intervals ---------------------------------------------------------------------------------


def wilson_interval(successes: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Wilson score interval for a binomial proportion. Unlike the Wald interval it stays inside
    [0, 1] and keeps its coverage near 0 and 1, where strong models on easy tasks live."""
    if n <= 0:
        raise ValueError("no items to compute a proportion over")
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes}, {n}")
    z = _z(confidence)
    p = successes / n
    z2n = z * z / n
    center = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    # Clamp rounding noise: at p = 0 or 1 the bound equals p exactly.
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == n else min(1.0, center + half)
    return Interval(p, low, high, confidence, "wilson")


def bootstrap_means(values: Sequence[float] | np.ndarray, n_resamples: int = DEFAULT_RESAMPLES,
                    seed: Seed = DEFAULT_SEED, strata: Strata = None) -> np.ndarray:
    """Means of `n_resamples` resamples (with replacement, same size) of `values`.

    With `strata` (one label per value, e.g. the task), each stratum is resampled on its own and
    keeps its size, so the pooled mean's spread reflects only the variation within tasks: task
    sizes are fixed by the benchmark design, not drawn at random.

    Few distinct values: multinomial counts per distinct value (exactly the same distribution as
    resampling indices, far cheaper). Otherwise indices are drawn in bounded chunks."""
    x = _as_1d(values, "values")
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    rng = rng_from(seed)
    if strata is not None:
        labels = np.asarray(strata)
        if labels.shape != x.shape:
            raise ValueError(f"strata must label every value: {labels.size} labels for {x.size} values")
        out = np.zeros(n_resamples)
        for label in np.unique(labels):
            part = x[labels == label]
            out += part.size / x.size * _resampled_means(part, n_resamples, rng)
        return out
    return _resampled_means(x, n_resamples, rng)


def _resampled_means(x: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    n = x.size
    uniq, counts = np.unique(np.round(x, _DECIMALS), return_counts=True)
    if uniq.size == 1:
        return np.full(n_resamples, float(uniq[0]))
    if uniq.size <= _UNIQUE_MAX:
        draws = rng.multinomial(n, counts / n, size=n_resamples)
        return draws @ uniq / n
    out = np.empty(n_resamples)
    step = max(1, _CHUNK_CELLS // n)
    for start in range(0, n_resamples, step):
        m = min(step, n_resamples - start)
        idx = rng.integers(0, n, size=(m, n))
        out[start:start + m] = x[idx].mean(axis=1)
    return out


def _percentile(estimate: float, resampled: np.ndarray, confidence: float, method: str) -> Interval:
    _z(confidence)  # validates
    alpha = 1 - confidence
    low, high = np.quantile(resampled, [alpha / 2, 1 - alpha / 2])
    # The percentile interval need not contain the estimate on very skewed data; widen to it so a
    # reported "score [low, high]" never reads as a contradiction.
    return Interval(float(estimate), float(min(low, estimate)), float(max(high, estimate)), confidence, method)


def mean_interval(values: Sequence[float] | np.ndarray, confidence: float = DEFAULT_CONFIDENCE,
                  n_resamples: int = DEFAULT_RESAMPLES, seed: Seed = DEFAULT_SEED,
                  strata: Strata = None) -> Interval:
    """Percentile bootstrap interval for the mean of per-item values (pass@1, pass@k)."""
    x = _as_1d(values, "values")
    return _percentile(float(x.mean()), bootstrap_means(x, n_resamples, seed, strata), confidence, "bootstrap")


def paired_bootstrap_diff(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                          confidence: float = DEFAULT_CONFIDENCE, n_resamples: int = DEFAULT_RESAMPLES,
                          seed: Seed = DEFAULT_SEED, strata: Strata = None) -> Interval:
    """Paired percentile bootstrap interval for mean(a) - mean(b), resampling items (within
    `strata` when given).

    Resampling items and averaging a_i - b_i over the draw is the same as resampling the pairs, so
    the bootstrap runs over the per-item differences."""
    x, y = _pair(a, b)
    d = x - y
    return _percentile(float(d.mean()), bootstrap_means(d, n_resamples, seed, strata), confidence,
                       "paired-bootstrap" if strata is None else "stratified-paired-bootstrap")


# --- tests -------------------------------------------------------------------------------------


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value: binomial test of a_only ~ Bin(a_only + b_only, 1/2).

    The tail is summed in exact integer arithmetic and divided once (Python rounds int/int
    correctly), so it is exact to double precision (agrees with scipy.stats.binomtest to ~1e-15
    relative) and neither overflows nor underflows to a wrong value for large counts."""
    if a_only < 0 or b_only < 0:
        raise ValueError("discordant counts must be >= 0")
    m = a_only + b_only
    lo = min(a_only, b_only)
    if m == 0 or 2 * lo == m:
        return 1.0
    term, tail = 1, 1  # C(m, 0)
    for i in range(lo):
        term = term * (m - i) // (i + 1)
        tail += term
    return min(1.0, 2 * tail / 2**m)


def sign_flip_test(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                   n_resamples: int = DEFAULT_RESAMPLES, seed: Seed = DEFAULT_SEED) -> float:
    """Two-sided paired permutation test of "A and B are exchangeable on every item".

    Under the null each difference d_i = a_i - b_i is as likely to have either sign, so the
    statistic |sum d_i| is compared with its distribution under random sign flips. Items with equal
    |d_i| are grouped: the flipped sum is sum_j v_j (2 X_j - m_j), X_j ~ Bin(m_j, 1/2). For 0/1
    outcomes this is McNemar's exact test, estimated by Monte Carlo. The p-value is
    (1 + #{|T*| >= |T|}) / (1 + n_resamples), never 0."""
    x, y = _pair(a, b)
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    d = np.round(x - y, _DECIMALS)
    d = d[d != 0]
    if d.size == 0:
        return 1.0
    rng = rng_from(seed)
    observed = abs(float(d.sum()))
    mags, counts = np.unique(np.abs(d), return_counts=True)
    tol = 1e-9 * max(1.0, observed)
    if mags.size <= _UNIQUE_MAX:
        flips = rng.binomial(counts, 0.5, size=(n_resamples, mags.size))
        stats = np.abs((2 * flips - counts) @ mags)
    else:
        stats = np.empty(n_resamples)
        step = max(1, _CHUNK_CELLS // d.size)
        for start in range(0, n_resamples, step):
            m = min(step, n_resamples - start)
            signs = rng.integers(0, 2, size=(m, d.size)) * 2 - 1
            stats[start:start + m] = np.abs(signs @ d)
    return float((1 + np.count_nonzero(stats >= observed - tol)) / (1 + n_resamples))


# --- counts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Discordance:
    """The 2x2 table of paired 0/1 outcomes."""

    both: int
    a_only: int
    b_only: int
    neither: int

    @property
    def n(self) -> int:
        return self.both + self.a_only + self.b_only + self.neither

    @property
    def agreement(self) -> float:
        return (self.both + self.neither) / self.n if self.n else float("nan")


def discordance(a: Sequence[bool] | np.ndarray, b: Sequence[bool] | np.ndarray) -> Discordance:
    """Count the paired outcomes: both right, only A, only B, neither."""
    x, y = _pair(a, b)
    if not (np.isin(x, (0.0, 1.0)).all() and np.isin(y, (0.0, 1.0)).all()):
        raise ValueError("discordance needs 0/1 outcomes")
    xa, yb = x.astype(bool), y.astype(bool)
    return Discordance(
        both=int(np.count_nonzero(xa & yb)),
        a_only=int(np.count_nonzero(xa & ~yb)),
        b_only=int(np.count_nonzero(~xa & yb)),
        neither=int(np.count_nonzero(~xa & ~yb)),
    )


def agreement_rate(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Share of items on which both models have the same value (same outcome, for 0/1)."""
    x, y = _pair(a, b)
    return float(np.mean(np.round(x, _DECIMALS) == np.round(y, _DECIMALS)))


# --- one call per metric -----------------------------------------------------------------------


def _seeds(seed: Seed) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent streams for A's interval, B's interval and the difference, from one seed."""
    if isinstance(seed, np.random.Generator):
        return seed, seed, seed
    children = np.random.SeedSequence(int(seed)).spawn(3)
    return tuple(np.random.default_rng(c) for c in children)  # type: ignore[return-value]


def paired_binary(a: Sequence[bool] | np.ndarray, b: Sequence[bool] | np.ndarray,
                  confidence: float = DEFAULT_CONFIDENCE, n_resamples: int = DEFAULT_RESAMPLES,
                  seed: Seed = DEFAULT_SEED, strata: Strata = None) -> Paired:
    """Paired comparison of 0/1 outcomes (maj@k): Wilson intervals, paired bootstrap on the
    difference (within `strata` when given), McNemar's exact test. Wilson treats the pooled items
    as one binomial sample, slightly conservative when strata differ in accuracy."""
    x, y = _pair(a, b)
    t = discordance(x, y)
    _, _, rng_d = _seeds(seed)
    return Paired(
        n=t.n,
        a=wilson_interval(t.both + t.a_only, t.n, confidence),
        b=wilson_interval(t.both + t.b_only, t.n, confidence),
        diff=paired_bootstrap_diff(x, y, confidence, n_resamples, rng_d, strata),
        p_value=mcnemar_exact(t.a_only, t.b_only),
        p_method="mcnemar-exact",
        a_only=t.a_only,
        b_only=t.b_only,
        ties=t.both + t.neither,
        agreement=t.agreement,
        n_resamples=n_resamples,
    )


def paired_means(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                 confidence: float = DEFAULT_CONFIDENCE, n_resamples: int = DEFAULT_RESAMPLES,
                 seed: Seed = DEFAULT_SEED, strata: Strata = None) -> Paired:
    """Paired comparison of per-item means (pass@1, pass@k): bootstrap intervals for each model and
    the paired difference (within `strata` when given), sign-flip permutation p-value (signs flip
    per item, so strata need no special treatment)."""
    x, y = _pair(a, b)
    rng_a, rng_b, rng_d = _seeds(seed)
    d = np.round(x - y, _DECIMALS)
    return Paired(
        n=int(x.size),
        a=mean_interval(x, confidence, n_resamples, rng_a, strata),
        b=mean_interval(y, confidence, n_resamples, rng_b, strata),
        diff=paired_bootstrap_diff(x, y, confidence, n_resamples, rng_d, strata),
        p_value=sign_flip_test(x, y, n_resamples, rng_d),
        p_method="sign-flip-permutation",
        a_only=int(np.count_nonzero(d > 0)),
        b_only=int(np.count_nonzero(d < 0)),
        ties=int(np.count_nonzero(d == 0)),
        agreement=float(np.mean(d == 0)),
        n_resamples=n_resamples,
    )


# --- size efficiency ---------------------------------------------------------------------------

Verdict = Literal["smaller_better", "indistinguishable", "larger_better", "same_size"]


@dataclass(frozen=True, slots=True)
class SizeEfficiency:
    """How two models of different sizes stand against each other.

    `*_per_log_param` is score / log10(parameter count): a crude points-per-order-of-magnitude
    figure that lets a 14B and a 70B model be put on one scale. The verdict rests on the paired
    difference interval: "smaller_better" / "larger_better" when it excludes zero,
    "indistinguishable" when it contains zero (no evidence of a difference, which is not proof of
    equality). `equivalent` says whether the whole interval lies within +-`margin`, the stronger
    claim that the gap, if any, is smaller than `margin`."""

    a_params: float
    b_params: float
    a_per_log_param: float
    b_per_log_param: float
    size_ratio: float  # larger / smaller
    smaller: Literal["a", "b"] | None  # None when the sizes are equal
    verdict: Verdict
    margin: float
    equivalent: bool


def score_per_log_param(score: float, params: float) -> float:
    """score / log10(params); params is a raw count (14e9 for a 14B model) and must exceed 1."""
    if params <= 1:
        raise ValueError(f"parameter count must be > 1, got {params}")
    return score / math.log10(params)


def size_efficiency(score_a: float, score_b: float, params_a: float, params_b: float,
                    diff: Interval, margin: float = 0.02) -> SizeEfficiency:
    """Size efficiency from both scores, parameter counts and the A - B difference interval."""
    if margin < 0:
        raise ValueError("margin must be >= 0")
    equivalent = -margin <= diff.low and diff.high <= margin
    if params_a == params_b:
        smaller, verdict = None, "same_size"
    else:
        smaller = "a" if params_a < params_b else "b"
        # Orient the interval as smaller - larger.
        low, high = (diff.low, diff.high) if smaller == "a" else (-diff.high, -diff.low)
        verdict = "smaller_better" if low > 0 else "larger_better" if high < 0 else "indistinguishable"
    return SizeEfficiency(
        a_params=float(params_a),
        b_params=float(params_b),
        a_per_log_param=score_per_log_param(score_a, params_a),
        b_per_log_param=score_per_log_param(score_b, params_b),
        size_ratio=max(params_a, params_b) / min(params_a, params_b),
        smaller=smaller,
        verdict=verdict,  # type: ignore[arg-type]
        margin=margin,
        equivalent=equivalent,
    )
