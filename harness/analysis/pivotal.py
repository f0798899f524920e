"""Pivotal token search (Phi-4 technical report, arXiv 2412.08905, section 4.3), the algorithm alone.

Along one of a model's own samples, p(prefix) is the share of N continuations sampled from the prompt
plus that prefix that the task's grader marks correct. Subdivide(prefix, T) stops when T is a single
token or |p(prefix) - p(prefix + T)| < p_gap; otherwise it splits T at the midpoint of its cumulative
token log-probability (of its token count where log-probabilities are not known) and recurses on
both halves. A one-token segment whose |delta p| >= p_gap is a pivotal token.

The search runs breadth first over every sample at once: each round asks the estimator for all the
prefixes the open segments need, so rollouts are batched across samples and items. Estimates are
memoized per (item, prefix text): samples that share a prefix share its rollouts. The estimator is
a plain callable, so the search is tested with a fake one and driven by real rollouts in
`harness.analysis.pivotal_run`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Hashable, Mapping, Sequence

Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Estimate:
    """p(correct) from a prefix: `correct` of `n` rollouts. n == 0 marks the sample's own verdict at
    its end (exact: `correct` is 1 or 0)."""

    n: int
    correct: int

    @property
    def p(self) -> float:
        return float(self.correct) if self.n == 0 else self.correct / self.n

    def interval(self, z: float = Z95) -> tuple[float, float]:
        return (self.p, self.p) if self.n == 0 else wilson(self.correct, self.n, z)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n."""
    if n <= 0:
        raise ValueError("wilson interval of no trials")
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def delta_interval(before: Estimate, after: Estimate, z: float = Z95) -> tuple[float, float]:
    """Interval of p_after - p_before from the two Wilson intervals (Newcombe's hybrid score method;
    the estimates are independent: different rollouts)."""
    l1, u1 = before.interval(z)
    l2, u2 = after.interval(z)
    d = after.p - before.p
    return (d - math.sqrt((after.p - l2) ** 2 + (u1 - before.p) ** 2),
            d + math.sqrt((u2 - after.p) ** 2 + (before.p - l1) ** 2))


def split_point(lo: int, hi: int, logprobs: Sequence[float] | None = None) -> int:
    """Where Subdivide splits tokens lo..hi-1 (hi - lo >= 2): the first boundary at which the
    cumulative log-probability mass (-log p, the tokens' surprisal) reaches half the segment's, kept
    strictly inside the segment; the middle token count without log-probabilities (or with no mass)."""
    if hi - lo < 2:
        raise ValueError(f"segment [{lo}, {hi}) has nothing to split")
    if logprobs is not None:
        mass = [max(0.0, -float(lp)) for lp in logprobs[lo:hi]]
        total = sum(mass)
        if total > 0:
            run = 0.0
            for j, m in enumerate(mass[:-1], 1):
                run += m
                if run >= total / 2:
                    return lo + j
            return hi - 1
    return (lo + hi) // 2


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample to search: `pieces` are its tokens as text (joined, its text), cut at the model's
    token boundaries; `verdict_correct` is its own verdict (p at its end, exact); `item` groups the
    samples whose prefixes share rollouts. `logprobs` per token, where known."""

    key: Hashable
    item: Hashable
    pieces: tuple[str, ...]
    verdict_correct: bool
    logprobs: tuple[float, ...] | None = None

    def prefix(self, position: int) -> str:
        return "".join(self.pieces[:position])


@dataclass(frozen=True, slots=True)
class Pivot:
    """A pivotal token: `pieces[position]` of sample `key`, p before and after it."""

    key: Hashable
    position: int
    token: str
    before: Estimate
    after: Estimate

    @property
    def delta(self) -> float:
        return self.after.p - self.before.p


# An estimator: for (item, prefix text) pairs, the estimate of each; may refuse with Budget.
Estimator = Callable[[Sequence[tuple[Hashable, str]]], Mapping[tuple[Hashable, str], Estimate]]


class Budget(Exception):
    """Raised by an estimator when the next round would pass the rollout budget: the search stops
    with what it has."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    pivots: tuple[Pivot, ...]
    # every estimate the search used, by (sample key, position)
    curve: Mapping[tuple[Hashable, int], Estimate]
    budget_hit: bool


def search(samples: Sequence[Sample], estimate: Estimator, p_gap: float,
           on_round: Callable[[int, int], None] | None = None) -> SearchResult:
    """Subdivide every sample from its empty prefix to its end, breadth first; `on_round(round,
    prefixes asked)` is called before each round's estimates."""
    if not 0 < p_gap <= 1:
        raise ValueError(f"p_gap must be in (0, 1], got {p_gap}")
    memo: dict[tuple[Hashable, str], Estimate] = {}
    curve: dict[tuple[Hashable, int], Estimate] = {}

    def point(s: Sample, pos: int) -> tuple[Hashable, str]:
        return (s.item, s.prefix(pos))

    def known(s: Sample, pos: int) -> Estimate | None:
        if pos == len(s.pieces):  # the end: the sample's own verdict
            return Estimate(0, int(s.verdict_correct))
        return memo.get(point(s, pos))

    frontier = [(s, 0, len(s.pieces)) for s in samples if s.pieces]
    pivots: list[Pivot] = []
    budget_hit = False
    rnd = 0
    while frontier:
        need = sorted({point(s, pos) for s, lo, hi in frontier for pos in (lo, hi) if known(s, pos) is None},
                      key=repr)
        if need:
            rnd += 1
            if on_round:
                on_round(rnd, len(need))
            try:
                got = estimate(need)
            except Budget:
                budget_hit = True
                break
            missing = [p for p in need if p not in got]
            if missing:
                raise ValueError(f"estimator gave no estimate for {missing[0]!r}")
            memo.update({p: got[p] for p in need})
        nxt = []
        for s, lo, hi in frontier:
            a, b = known(s, lo), known(s, hi)
            assert a is not None and b is not None
            curve[(s.key, lo)], curve[(s.key, hi)] = a, b
            if abs(b.p - a.p) < p_gap:
                continue
            if hi - lo == 1:
                pivots.append(Pivot(s.key, lo, s.pieces[lo], a, b))
                continue
            m = split_point(lo, hi, s.logprobs)
            nxt += [(s, lo, m), (s, m, hi)]
        frontier = nxt
    pivots.sort(key=lambda p: (repr(p.key), p.position))
    return SearchResult(tuple(pivots), curve, budget_hit)


@dataclass(frozen=True, slots=True)
class Pair:
    """A preference pair at a pivotal token: after `prefix`, `chosen` raises p and `rejected` lowers
    it; one of them is the sample's own token, the other the first token of rollouts from `prefix`
    whose share of correct continuations lies on the other side of p(prefix)."""

    chosen: str
    rejected: str
    chosen_p: float  # p after the chosen token (the sample's estimate, or its rollouts' share)
    rejected_p: float
    alternative_n: int  # rollouts from `prefix` that began with the other token


def pair_of(token: str, p_before: float, p_after: float, next_tokens: Sequence[tuple[str, int, int]]) -> Pair | None:
    """The pair at a pivotal token from the first tokens of the rollouts already sampled from its
    prefix (`next_tokens`: token, rollouts, correct): the other side is the token, other than the
    sample's, with the most rollouts among those whose share of correct ones lies past p_before the
    other way (ties: the more extreme share, then the token). None when no rollout began otherwise."""
    raises = p_after > p_before
    options = []
    for tok, n, correct in next_tokens:
        if tok == token or n <= 0:
            continue
        share = correct / n
        if (share < p_before) if raises else (share > p_before):
            options.append((n, p_before - share if raises else share - p_before, tok, share))
    if not options:
        return None
    n, _, other, share = min(options, key=lambda o: (-o[0], -o[1], o[2]))  # most rollouts, most extreme, token
    if raises:
        return Pair(token, other, p_after, share, n)
    return Pair(other, token, share, p_after, n)
