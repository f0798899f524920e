"""Paired statistics of a loop: each arm against the base, and arm against arm, per seed and pooled.

All on one test pool, item by item (maj@k per item, 0/1 when n = k):
- per seed: McNemar's exact test and a paired bootstrap interval (`stats.paired_binary`);
- pooled over seeds: each item's mean over the seeds, compared item by item (paired bootstrap over
  items, sign-flip permutation p), so an item counts once however many seeds there are; beside it
  the mean and spread (standard deviation) of the per-seed scores.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Mapping, Sequence

from harness.analysis import stats


@dataclass(frozen=True, slots=True)
class Gain:
    n_items: int
    before: float  # B's score
    after: float  # A's score
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    seeds: int = 1
    spread: float | None = None  # standard deviation of A's per-seed scores (pooled only)

    def to_json(self) -> dict[str, float | int | None]:
        return {"items": self.n_items, "before": self.before, "after": self.after, "diff": self.diff,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "p_value": self.p_value, "seeds": self.seeds,
                "spread": self.spread}


def per_seed(a: Sequence[float], b: Sequence[float], seed: int = 0) -> Gain:
    """A against B on the same items (values 0/1: the item's majority verdict)."""
    if all(v in (0.0, 1.0) for v in (*a, *b)):
        p = stats.paired_binary([bool(v) for v in a], [bool(v) for v in b], seed=seed)
    else:
        p = stats.paired_means(a, b, seed=seed)
    return Gain(p.n, p.b.estimate, p.a.estimate, p.diff.estimate, p.diff.low, p.diff.high, p.p_value)


def pooled(a: Mapping[int, Sequence[float]], b: Mapping[int, Sequence[float]] | Sequence[float], seed: int = 0) -> Gain:
    """A (per seed) against B (per seed, or one run shared by every seed) on the same items."""
    seeds = sorted(a)
    n = len(a[seeds[0]])
    mean_a = [sum(a[s][i] for s in seeds) / len(seeds) for i in range(n)]
    if isinstance(b, Mapping):
        bs = sorted(b)
        mean_b = [sum(b[s][i] for s in bs) / len(bs) for i in range(n)]
    else:
        mean_b = list(b)
    p = stats.paired_means(mean_a, mean_b, seed=seed)
    scores = [sum(a[s]) / n for s in seeds]
    spread = statistics.stdev(scores) if len(scores) > 1 else None
    return Gain(n, float(sum(mean_b) / n), float(sum(mean_a) / n), p.diff.estimate, p.diff.low, p.diff.high,
                p.p_value, len(seeds), spread)
