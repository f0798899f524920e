"""maj@k from n >= k samples: the average majority-vote outcome over subsets of size k.

Estimator: the mean, over k-subsets of the n samples, of "the subset's majority answer is correct",
voted exactly as `harness.vote.vote` does (vote classes from `Grade.cls`; samples without a class do
not vote; ties go to the class whose earliest member in the subset has the lowest sample index).
When there are at most `exact_limit` subsets the mean is over all of them (exact); otherwise over
`draws` subsets drawn uniformly without replacement by a `random.Random(seed)`, so the result is
reproducible. Either way it is an unbiased estimate of the maj@k of k fresh samples, unlike taking
the first k samples, which throws the other n - k away.
"""

from __future__ import annotations

import random
from itertools import combinations
from math import comb
from typing import Iterable, Sequence

from ...records import Grade


def _subset_correct(cls: Sequence[int | None], correct: Sequence[bool], subset: Iterable[int]) -> bool:
    counts: dict[int, int] = {}
    first: dict[int, int] = {}
    for i in subset:  # ascending sample indices
        c = cls[i]
        if c is None:
            continue
        counts[c] = counts.get(c, 0) + 1
        first.setdefault(c, i)
    if not counts:
        return False
    best = min(counts, key=lambda c: (-counts[c], first[c]))
    return correct[first[best]]


def maj_at_k(grades: Sequence[Grade], k: int, *, seed: int = 0, exact_limit: int = 2000, draws: int = 1000) -> float:
    """Estimated probability that a majority vote over k samples is correct (see the module docstring)."""
    n = len(grades)
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    cls = [g.cls for g in grades]
    correct = [g.verdict == "correct" for g in grades]
    if not any(correct):
        return 0.0
    total = comb(n, k)
    if total <= exact_limit:
        hits = sum(_subset_correct(cls, correct, s) for s in combinations(range(n), k))
        return hits / total
    rng = random.Random(seed)
    hits = sum(_subset_correct(cls, correct, sorted(rng.sample(range(n), k))) for _ in range(draws))
    return hits / draws
