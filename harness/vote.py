"""Majority vote over classes of equivalent answers, and the unbiased pass@k estimator.

Tie rule (deterministic, never looks at the gold answer): among classes with the most votes, the
winner is the class whose first member has the lowest sample index. Samples without an answer
(unparseable, timeout, unfinished) do not vote but count in `n`, so vote shares are fractions of all samples.

maj@k from n > k samples (`maj_at_k`): the mean, over k-subsets of the n samples, of "the subset's
majority answer is correct", voted by the same rule. Exact over all subsets when there are at most
`exact_limit` of them, else over `draws` subsets drawn by a seeded `random.Random`: an unbiased
estimate of the maj@k of k fresh samples, unlike taking the first k and throwing n - k away.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from math import comb
from typing import Iterable, Sequence

from harness.records import Grade

# k of maj@k and pass@k wherever a command does not say: `harness run`, `demo` and `nightly` alike.
# 8: a majority of 8 samples is a real vote (ties are rarer than with 4), maj@8 is the budget papers
# commonly report for GSM8K and MATH, and pass@8 is far enough from pass@1 to show what sampling buys.
DEFAULT_K = 8


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimator of pass@k from n samples with c correct (Chen et al., 2021):
    1 - C(n-c, k) / C(n, k). Exact in integers, so no float underflow for large n."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got c={c}, n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


@dataclass(frozen=True, slots=True)
class Vote:
    n: int
    n_correct: int
    n_unparseable: int
    n_timeout: int
    winner: int | None  # sample index of the winning class's first member
    answer: str | None  # the winner's canonical answer (extracted when no canonical form)
    maj_correct: bool  # maj@k outcome: the majority answer is correct
    share: float  # winner's votes / n
    margin: float  # (winner's votes - runner-up's votes) / n
    n_classes: int
    n_unfinished: int = 0  # samples whose thinking never closed: no answer, no vote

    @property
    def pass_at_1(self) -> float:
        return self.n_correct / self.n if self.n else 0.0


def vote(grades: Sequence[Grade]) -> Vote:
    n = len(grades)
    counts: Counter[int] = Counter()
    first: dict[int, int] = {}
    for i, g in enumerate(grades):
        if g.cls is None:
            continue
        counts[g.cls] += 1
        first.setdefault(g.cls, i)
    n_correct = sum(g.verdict == "correct" for g in grades)
    n_unp = sum(g.verdict == "unparseable" for g in grades)
    n_to = sum(g.verdict == "timeout" for g in grades)
    n_unf = sum(g.verdict == "unfinished" for g in grades)
    if not counts:
        return Vote(n, n_correct, n_unp, n_to, None, None, False, 0.0, 0.0, 0, n_unf)
    ranked = sorted(counts, key=lambda c: (-counts[c], first[c]))
    top = ranked[0]
    runner_up = counts[ranked[1]] if len(ranked) > 1 else 0
    rep = grades[first[top]]
    return Vote(
        n=n,
        n_correct=n_correct,
        n_unparseable=n_unp,
        n_timeout=n_to,
        winner=first[top],
        answer=rep.canonical if rep.canonical is not None else rep.extracted,
        maj_correct=rep.verdict == "correct",
        share=counts[top] / n,
        margin=(counts[top] - runner_up) / n,
        n_classes=len(counts),
        n_unfinished=n_unf,
    )


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
