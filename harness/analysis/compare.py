"""Compare two models item by item: the pure core of `harness compare A vs B`.

Input is each model's per-item outcome keyed by (task, item id), as the store's item results hold
them; output is frozen records per task and overall, plus the items the models disagree on. The two
models are compared only on the items both have (the rest are counted as dropped), so every number
is paired. Statistics come from `harness.analysis.stats`; `harness.analysis.compare_render` turns the result into a
rich table, markdown or JSON.

Metrics
- maj@k: the per-item majority-vote outcome (0/1). Wilson intervals per model, paired bootstrap on
  the difference, McNemar's exact test; a_only / b_only are the items only A / only B solve.
- pass@1: the per-item share of correct samples. Bootstrap intervals per model and on the paired
  difference, sign-flip permutation test; a_only / b_only count items where A's / B's value is higher.
- pass@k: the per-item unbiased pass@k estimate, treated as pass@1 is.
"Overall" pools the items of all compared tasks (item-weighted, not a mean of task scores); its
bootstrap resamples items within each task, since task sizes are fixed by design.

Budget (each model on its own, over the compared items): samples that were right, wrong (incorrect,
unparseable or timed out) and unfinished (thinking that never closed: no answer at all, a different
finding from a wrong one), generated tokens (thinking + answer) per sample and per correct answer,
and, with a price per million tokens, what the samples cost and the cost per correct answer.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, replace
from typing import Any, Literal, Mapping, Sequence

import numpy as np

from harness.analysis import stats
from harness.errors import HarnessError
from harness.vote import Vote, pass_at_k

Metric = Literal["maj@k", "pass@1", "pass@k"]
METRICS: tuple[Metric, ...] = ("maj@k", "pass@1", "pass@k")
Side = Literal["a", "b"]
Key = tuple[str, str]  # (task, item id)
OVERALL = "overall"


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """One model's result on one item: what comparison needs from the store's item results."""

    maj_correct: bool
    pass_at_1: float
    pass_at_k: float | None = None
    answer: str | None = None  # majority answer (canonical form)
    share: float | None = None  # the majority answer's share of all samples
    gold: str | None = None
    # Sample counts and token totals over the item's samples, where the source gives them
    n: int | None = None
    n_correct: int | None = None
    n_unfinished: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None  # generated: thinking + answer
    thinking_tokens: int | None = None
    n_forced: int | None = None  # samples whose thinking budget forcing closed
    contaminated: bool = False  # the model's weights were trained on this item (its lineage)

    def value(self, metric: Metric) -> float:
        if metric == "maj@k":
            return 1.0 if self.maj_correct else 0.0
        if metric == "pass@1":
            return float(self.pass_at_1)
        if metric == "pass@k":
            if self.pass_at_k is None:
                raise HarnessError("pass@k was not recorded for this item; use --metric maj@k or pass@1")
            return float(self.pass_at_k)
        raise HarnessError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")

    @staticmethod
    def from_row(r: Mapping[str, Any]) -> "ItemOutcome":
        """From an `item_results` row (a dict, or a DataFrame record: NaN and None both mean missing)."""
        def given(x: object) -> bool:
            return x is not None and not (isinstance(x, float) and x != x)

        return ItemOutcome(
            maj_correct=bool(r["maj_correct"]), pass_at_1=float(r["pass_at_1"]),
            pass_at_k=float(r["pass_at_k"]) if given(r.get("pass_at_k")) else None,
            answer=str(r["maj_answer"]) if given(r.get("maj_answer")) else None,
            share=float(r["vote_share"]) if given(r.get("vote_share")) else None,
            gold=str(r["gold"]) if given(r.get("gold")) else None,
            n=int(r["n"]) if given(r.get("n")) else None,
            n_correct=int(r["n_correct"]) if given(r.get("n_correct")) else None,
            n_unfinished=int(r["n_unfinished"]) if given(r.get("n_unfinished")) else None,
            contaminated=bool(r["possibly_contaminated"]) if given(r.get("possibly_contaminated")) else False,
        )

    @staticmethod
    def from_vote(v: Vote, gold: str | None = None, k: int | None = None) -> "ItemOutcome":
        """From a majority vote over an item's samples; pass@k for `k` when given (k <= n)."""
        return ItemOutcome(
            maj_correct=v.maj_correct,
            pass_at_1=v.pass_at_1,
            pass_at_k=None if k is None or v.n == 0 else pass_at_k(v.n, v.n_correct, min(k, v.n)),
            answer=v.answer,
            share=v.share,
            gold=gold,
            n=v.n,
            n_correct=v.n_correct,
            n_unfinished=v.n_unfinished,
        )


Price = Mapping[str, float]  # "input" / "output": per million tokens; a part without a price costs nothing


@dataclass(frozen=True, slots=True)
class Budget:
    """One model's samples and tokens on a task's compared items. Token totals are None unless every
    item reported them; `cost` is None without a price or without the counts the price needs."""

    n_samples: int
    n_correct: int
    n_unfinished: int
    prompt_tokens: int | None
    completion_tokens: int | None
    thinking_tokens: int | None
    cost: float | None
    n_forced: int = 0  # samples whose thinking was closed at the budget (budget forcing)

    @property
    def n_wrong(self) -> int:
        """Samples that answered, but not right (incorrect, unparseable, timeout)."""
        return self.n_samples - self.n_correct - self.n_unfinished

    @property
    def unfinished_rate(self) -> float | None:
        return self.n_unfinished / self.n_samples if self.n_samples else None

    @property
    def mean_tokens(self) -> float | None:
        """Generated tokens per sample."""
        return None if self.completion_tokens is None or not self.n_samples else self.completion_tokens / self.n_samples

    @property
    def tokens_per_correct(self) -> float | None:
        """Generated tokens (thinking + answer, every sample's) per correct sample."""
        return None if self.completion_tokens is None or not self.n_correct else self.completion_tokens / self.n_correct

    @property
    def cost_per_correct(self) -> float | None:
        return None if self.cost is None or not self.n_correct else self.cost / self.n_correct

    @staticmethod
    def of(outcomes: Sequence[ItemOutcome], price: Price | None = None) -> "Budget | None":
        """Totals over items; None when an item lacks its sample counts."""
        if not outcomes or any(o.n is None or o.n_correct is None for o in outcomes):
            return None

        def total(field: str) -> int | None:
            vals = [getattr(o, field) for o in outcomes]
            return None if any(v is None for v in vals) else sum(vals)

        return Budget.of_totals(
            n_samples=sum(o.n for o in outcomes),  # type: ignore[misc]
            n_correct=sum(o.n_correct for o in outcomes),  # type: ignore[misc]
            n_unfinished=sum(o.n_unfinished or 0 for o in outcomes),
            prompt_tokens=total("prompt_tokens"), completion_tokens=total("completion_tokens"),
            thinking_tokens=total("thinking_tokens"), n_forced=sum(o.n_forced or 0 for o in outcomes), price=price)

    @staticmethod
    def of_totals(*, n_samples: int, n_correct: int, n_unfinished: int, prompt_tokens: int | None,
                  completion_tokens: int | None, thinking_tokens: int | None, n_forced: int,
                  price: Price | None) -> "Budget":
        """A budget from totals already summed (a page sums columns), priced as `of` prices them."""
        return Budget(n_samples=n_samples, n_correct=n_correct, n_unfinished=n_unfinished,
                      prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                      thinking_tokens=thinking_tokens, cost=cost(price, prompt_tokens, completion_tokens),
                      n_forced=n_forced)


def cost(price: Price | None, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
    """What the tokens cost at `price` (per million): None without a price, or when a priced part's
    count is unknown."""
    if not price:
        return None
    total = 0.0
    for part, count in (("input", prompt_tokens), ("output", completion_tokens)):
        rate = price.get(part)
        if not rate:
            continue
        if count is None:
            return None
        total += rate * count / 1e6
    return total


@dataclass(frozen=True, slots=True)
class TaskResult:
    """Paired comparison on one task (or `OVERALL`). `diff` is A - B. `dropped_a` counts items only
    A has results for, `dropped_b` items only B has: both were left out of every number here."""

    task: str
    metric: Metric
    n_items: int
    a: stats.Interval  # A's score with its interval
    b: stats.Interval
    diff: float
    diff_ci_low: float
    diff_ci_high: float
    p_value: float
    p_method: str
    a_only: int
    b_only: int
    agreement: float  # share of items with equal outcome (equal value, for pass@1 / pass@k)
    answer_agreement: float | None  # share of items with the same majority answer; None if unknown
    dropped_a: int
    dropped_b: int
    a_budget: Budget | None = None  # samples and tokens of each model on these items
    b_budget: Budget | None = None
    # compared items each model's weights were trained on (their lineage): its score there may be inflated
    a_contaminated: int = 0
    b_contaminated: int = 0


@dataclass(frozen=True, slots=True)
class DifferingItem:
    """An item on which the two models' metric values differ."""

    task: str
    item_id: str
    winner: Side
    a_value: float
    b_value: float
    a_answer: str | None
    a_share: float | None
    b_answer: str | None
    b_share: float | None
    gold: str | None

    @property
    def confidence(self) -> float:
        """How sure both models were of their (different) answers: the smaller vote share."""
        return min(self.a_share or 0.0, self.b_share or 0.0)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A requested task that could not be compared. `missing` names the models with no results
    for it (the CLI prints the `harness run` command for each); when empty, both have results but
    no item in common."""

    task: str
    missing: tuple[str, ...]
    a_items: int
    b_items: int


@dataclass(frozen=True, slots=True)
class Comparison:
    a_name: str
    b_name: str
    a_params: float | None
    b_params: float | None
    metric: Metric
    confidence: float
    n_resamples: int
    seed: int
    tasks: tuple[TaskResult, ...]
    overall: TaskResult | None  # pooled over all compared tasks; None when no task was compared
    size: stats.SizeEfficiency | None  # from the overall result; None without both parameter counts (> 1)
    items: tuple[DifferingItem, ...]  # most confident disagreements first
    skipped: tuple[Skipped, ...]


def _task_seed(seed: int, task: str) -> np.random.Generator:
    """A stream per task, so a task's interval does not depend on which other tasks were asked for."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(task.encode("utf-8"))]))


def _answers_agree(a: Sequence[ItemOutcome], b: Sequence[ItemOutcome]) -> float | None:
    known = [(x.answer, y.answer) for x, y in zip(a, b) if x.answer is not None and y.answer is not None]
    if not known:
        return None
    return sum(x == y for x, y in known) / len(known)


def _paired_task(task: str, metric: Metric, a: Sequence[ItemOutcome], b: Sequence[ItemOutcome],
                 dropped: tuple[int, int], confidence: float, n_resamples: int, seed: int,
                 strata: Sequence[str] | None = None, prices: tuple[Price | None, Price | None] = (None, None)) -> TaskResult:
    xa = np.array([o.value(metric) for o in a])
    xb = np.array([o.value(metric) for o in b])
    rng = _task_seed(seed, task)
    if metric == "maj@k":
        r = stats.paired_binary(xa, xb, confidence, n_resamples, rng, strata)
    else:
        r = stats.paired_means(xa, xb, confidence, n_resamples, rng, strata)
    return TaskResult(
        task=task,
        metric=metric,
        n_items=r.n,
        a=r.a,
        b=r.b,
        diff=r.diff.estimate,
        diff_ci_low=r.diff.low,
        diff_ci_high=r.diff.high,
        p_value=r.p_value,
        p_method=r.p_method,
        a_only=r.a_only,
        b_only=r.b_only,
        agreement=r.agreement,
        answer_agreement=_answers_agree(a, b),
        dropped_a=dropped[0],
        dropped_b=dropped[1],
        a_budget=Budget.of(a, prices[0]),
        b_budget=Budget.of(b, prices[1]),
        a_contaminated=sum(o.contaminated for o in a),
        b_contaminated=sum(o.contaminated for o in b),
    )


def _natural(item_id: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting "9" before "10" and "q2" before "q10"."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", item_id) if part)


def _differing(metric: Metric, keys: Sequence[Key], a: Mapping[Key, ItemOutcome],
               b: Mapping[Key, ItemOutcome]) -> tuple[DifferingItem, ...]:
    out = []
    for key in keys:
        oa, ob = a[key], b[key]
        va, vb = oa.value(metric), ob.value(metric)
        if round(va - vb, 12) == 0:
            continue
        out.append(DifferingItem(
            task=key[0], item_id=key[1], winner="a" if va > vb else "b", a_value=va, b_value=vb,
            a_answer=oa.answer, a_share=oa.share, b_answer=ob.answer, b_share=ob.share,
            gold=oa.gold if oa.gold is not None else ob.gold,
        ))
    # Largest gap first (for maj@k every gap is 1), then both models most sure of their answers.
    out.sort(key=lambda d: (-abs(d.a_value - d.b_value), -d.confidence,
                            -((d.a_share or 0.0) + (d.b_share or 0.0)), d.task, _natural(d.item_id)))
    return tuple(out)


def compare(a: Mapping[Key, ItemOutcome], b: Mapping[Key, ItemOutcome], *, a_name: str = "A",
            b_name: str = "B", metric: Metric = "maj@k", tasks: Sequence[str] | None = None,
            a_params: float | None = None, b_params: float | None = None,
            confidence: float = stats.DEFAULT_CONFIDENCE, n_resamples: int = stats.DEFAULT_RESAMPLES,
            seed: int = stats.DEFAULT_SEED, margin: float = 0.02,
            a_price: Price | None = None, b_price: Price | None = None) -> Comparison:
    """Compare model A with model B on the items both have, per task and pooled.

    `tasks` limits and orders the tasks (default: every task either model has, sorted); a requested
    task missing for a model, or without shared items, is reported in `skipped`. `margin` is the
    equivalence margin of the size-efficiency verdict (absolute score points, 0.02 = 2 points).
    `a_price` / `b_price` (per million input / output tokens) give each model's cost in its budget."""
    if metric not in METRICS:
        raise HarnessError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    by_task_a: dict[str, set[str]] = {}
    by_task_b: dict[str, set[str]] = {}
    for t, i in a:
        by_task_a.setdefault(t, set()).add(i)
    for t, i in b:
        by_task_b.setdefault(t, set()).add(i)
    wanted = list(dict.fromkeys(tasks)) if tasks is not None else sorted(set(by_task_a) | set(by_task_b))

    results: list[TaskResult] = []
    skipped: list[Skipped] = []
    shared_keys: list[Key] = []
    dropped_total = [0, 0]
    for task in wanted:
        ia, ib = by_task_a.get(task, set()), by_task_b.get(task, set())
        common = sorted(ia & ib)
        if not common:
            missing = tuple(name for name, ids in ((a_name, ia), (b_name, ib)) if not ids)
            skipped.append(Skipped(task, missing, len(ia), len(ib)))
            continue
        keys = [(task, i) for i in common]
        dropped = (len(ia - ib), len(ib - ia))
        dropped_total[0] += dropped[0]
        dropped_total[1] += dropped[1]
        try:
            results.append(_paired_task(task, metric, [a[k] for k in keys], [b[k] for k in keys],
                                        dropped, confidence, n_resamples, seed, prices=(a_price, b_price)))
        except HarnessError as e:
            raise HarnessError(f"task {task}: {e}") from None
        shared_keys.extend(keys)

    overall: TaskResult | None = None
    size = None
    if len(results) == 1:  # the same items: the same numbers, not a second Monte Carlo draw
        overall = replace(results[0], task=OVERALL)
    elif results:
        overall = _paired_task(OVERALL, metric, [a[k] for k in shared_keys], [b[k] for k in shared_keys],
                               (dropped_total[0], dropped_total[1]), confidence, n_resamples, seed,
                               strata=[k[0] for k in shared_keys], prices=(a_price, b_price))
    if overall is not None and a_params is not None and b_params is not None and a_params > 1 and b_params > 1:
        ci = stats.Interval(overall.diff, overall.diff_ci_low, overall.diff_ci_high, confidence, "")
        size = stats.size_efficiency(overall.a.estimate, overall.b.estimate, a_params, b_params, ci, margin)
    return Comparison(
        a_name=a_name, b_name=b_name, a_params=a_params, b_params=b_params, metric=metric,
        confidence=confidence, n_resamples=n_resamples, seed=seed, tasks=tuple(results),
        overall=overall, size=size, items=_differing(metric, shared_keys, a, b), skipped=tuple(skipped),
    )
