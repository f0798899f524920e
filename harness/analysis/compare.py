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
from typing import Any, Iterator, Literal, Mapping, Sequence, overload

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


# `item_results` columns whose values are counts, read as float columns (NaN: not given).
COUNTS: tuple[str, ...] = ("n", "n_correct", "n_unfinished", "prompt_tokens", "completion_tokens", "thinking_tokens",
                           "n_forced")


def _given(x: object) -> bool:
    return x is not None and not (isinstance(x, float) and x != x)


def _floats(values: Any, n: int) -> np.ndarray:
    """A float column (None and NaN: NaN); all NaN when the column is absent."""
    if values is None:
        return np.full(n, np.nan)
    return np.array([float(x) if _given(x) else np.nan for x in values], dtype=float) \
        if isinstance(values, (list, tuple)) or np.asarray(values).dtype == object else np.asarray(values, dtype=float)


def _texts(values: Any, n: int) -> np.ndarray:
    """An object column of str or None (None and NaN: None)."""
    out: np.ndarray = np.empty(n, dtype=object)
    if values is None or not n:
        return out
    arr = np.asarray(values, dtype=object)
    if set(map(type, arr)) <= {str, type(None)}:  # as a store read gives them: nothing to convert
        out[:] = arr
    else:
        out[:] = [str(x) if _given(x) else None for x in arr]
    return out


class Outcomes(Mapping[Key, ItemOutcome]):
    """Many items' outcomes as columns, one row per (task, item id): what `compare` computes on.

    Read as a mapping it is the same as the `{(task, item id): ItemOutcome}` dict it stands for (an
    `ItemOutcome` is made when an item is looked up); `compare` reads the columns directly, so a
    comparison over hundreds of thousands of items makes no Python object per item. Rows are kept
    sorted by (task, item id); a key given twice keeps its last row, as a dict would."""

    __slots__ = ("task", "item_id", "maj_correct", "pass_at_1", "pass_at_k", "answer", "share", "gold", "counts",
                 "contaminated", "_rows")

    def __init__(self, task: Any, item_id: Any, maj_correct: Any, pass_at_1: Any, pass_at_k: Any = None,
                 answer: Any = None, share: Any = None, gold: Any = None,
                 counts: Mapping[str, Any] | None = None, contaminated: Any = None) -> None:
        tasks, items = _texts(task, len(task)), _texts(item_id, len(item_id))
        n = len(tasks)
        # Sorted by (task, item id); of equal keys the last one given wins (stable sort, keep the last).
        # Rows that come sorted with no key twice (as `latest_results` gives them) stay as they are.
        order: np.ndarray | slice = slice(None)
        if n > 1 and not bool(np.all((tasks[:-1] < tasks[1:])
                                     | ((tasks[:-1] == tasks[1:]) & (items[:-1] < items[1:])))):
            by_key = np.lexsort((np.arange(n), items.astype(str), tasks.astype(str)))
            t, i = tasks[by_key], items[by_key]
            order = by_key[np.append((t[1:] != t[:-1]) | (i[1:] != i[:-1]), True)]
        self.task: np.ndarray = tasks[order]
        self.item_id: np.ndarray = items[order]
        majority = np.asarray(maj_correct)
        # bool(x), as `ItemOutcome.from_row` reads it
        self.maj_correct: np.ndarray = (majority if majority.dtype == bool else majority.astype(object).astype(bool)
                                        )[order] if n else np.zeros(0, dtype=bool)
        self.pass_at_1: np.ndarray = np.asarray(pass_at_1, dtype=float)[order] if n else np.zeros(0)
        self.pass_at_k: np.ndarray = _floats(pass_at_k, n)[order]  # NaN: not recorded
        self.answer: np.ndarray = _texts(answer, n)[order]
        self.share: np.ndarray = _floats(share, n)[order]  # NaN: unknown
        self.gold: np.ndarray = _texts(gold, n)[order]
        self.counts: dict[str, np.ndarray] = {c: _floats((counts or {}).get(c), n)[order] for c in COUNTS}
        flags = _floats(contaminated, n)[order]
        self.contaminated: np.ndarray = np.nan_to_num(flags, nan=0.0) != 0
        self._rows: dict[Key, int] | None = None

    # The `latest_results` columns `from_columns` reads.
    COLUMNS: tuple[str, ...] = ("task", "item_id", "maj_correct", "pass_at_1", "pass_at_k", "maj_answer", "vote_share",
                                "gold", *COUNTS, "possibly_contaminated")

    @staticmethod
    def from_columns(cols: Mapping[str, Any]) -> "Outcomes":
        """From `item_results` columns (`queries.latest_results` names; absent ones are missing), read
        as `ItemOutcome.from_row` reads a row, with the token totals and forced count beside them."""
        return Outcomes(cols["task"], cols["item_id"], cols["maj_correct"], cols["pass_at_1"], cols.get("pass_at_k"),
                        cols.get("maj_answer"), cols.get("vote_share"), cols.get("gold"),
                        {c: cols.get(c) for c in COUNTS}, cols.get("possibly_contaminated"))

    @staticmethod
    def of(outcomes: Mapping[Key, ItemOutcome]) -> "Outcomes":
        """The columns of a `{(task, item id): ItemOutcome}` mapping (itself when it is one)."""
        if isinstance(outcomes, Outcomes):
            return outcomes
        keys, vals = list(outcomes), list(outcomes.values())
        return Outcomes([k[0] for k in keys], [k[1] for k in keys], [o.maj_correct for o in vals],
                        [o.pass_at_1 for o in vals], [o.pass_at_k for o in vals], [o.answer for o in vals],
                        [o.share for o in vals], [o.gold for o in vals],
                        {c: [getattr(o, c) for o in vals] for c in COUNTS}, [o.contaminated for o in vals])

    def __len__(self) -> int:
        return len(self.task)

    def __iter__(self) -> Iterator[Key]:
        return zip(self.task.tolist(), self.item_id.tolist())

    def __getitem__(self, key: Key) -> ItemOutcome:
        if self._rows is None:
            self._rows = {k: i for i, k in enumerate(self)}
        i = self._rows[key]

        def num(x: Any) -> float | None:
            return None if x != x else float(x)

        def count(c: str) -> int | None:
            x = self.counts[c][i]
            return None if x != x else int(x)

        answer: str | None = self.answer.item(i)
        gold: str | None = self.gold.item(i)
        return ItemOutcome(maj_correct=bool(self.maj_correct[i]), pass_at_1=float(self.pass_at_1[i]),
                           pass_at_k=num(self.pass_at_k[i]), answer=answer, share=num(self.share[i]),
                           gold=gold, n=count("n"), n_correct=count("n_correct"),
                           n_unfinished=count("n_unfinished"), prompt_tokens=count("prompt_tokens"),
                           completion_tokens=count("completion_tokens"), thinking_tokens=count("thinking_tokens"),
                           n_forced=count("n_forced"), contaminated=bool(self.contaminated[i]))

    def tasks(self) -> dict[str, np.ndarray]:
        """Row indices per task (each task's rows sorted by item id)."""
        if not len(self):
            return {}
        start = np.append(0, np.flatnonzero(self.task[1:] != self.task[:-1]) + 1)  # rows are sorted by task
        ends = np.append(start[1:], len(self))
        return {str(self.task[s]): np.arange(s, e) for s, e in zip(start.tolist(), ends.tolist())}

    def metric_values(self, metric: Metric, rows: np.ndarray) -> np.ndarray:
        """The metric's per-item values of `rows` (what `ItemOutcome.value` gives, as an array)."""
        if metric == "maj@k":
            return self.maj_correct[rows].astype(float)
        if metric == "pass@1":
            return self.pass_at_1[rows].astype(float)
        if metric == "pass@k":
            v = self.pass_at_k[rows]
            if np.isnan(v).any():
                raise HarnessError("pass@k was not recorded for this item; use --metric maj@k or pass@1")
            return v.astype(float)
        raise HarnessError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")

    def budget(self, rows: np.ndarray, price: "Price | None") -> "Budget | None":
        """`Budget.of` over `rows`: the same totals by column sums (None when an item lacks its sample
        counts; a token total None when an item's is)."""
        c = {name: col[rows] for name, col in self.counts.items()}
        if not rows.size or np.isnan(c["n"]).any() or np.isnan(c["n_correct"]).any():
            return None

        def total(name: str) -> int | None:
            return None if np.isnan(c[name]).any() else int(c[name].astype(np.int64).sum())

        def known(name: str) -> int:  # a missing count counts 0
            return int(np.nan_to_num(c[name], nan=0.0).astype(np.int64).sum())

        return Budget.of_totals(n_samples=total("n") or 0, n_correct=total("n_correct") or 0,
                                n_unfinished=known("n_unfinished"), prompt_tokens=total("prompt_tokens"),
                                completion_tokens=total("completion_tokens"), thinking_tokens=total("thinking_tokens"),
                                n_forced=known("n_forced"), price=price)


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


class DifferingItems(Sequence[DifferingItem]):
    """The items two models differ on, in order (most confident disagreements first), as columns
    named after `DifferingItem`'s fields: a comparison over many items holds them without a Python
    object each. Indexing and iterating give `DifferingItem` records; a slice is again columns; it
    equals any sequence of the same records (a tuple of them included)."""

    __slots__ = ("columns",)
    FIELDS: tuple[str, ...] = ("task", "item_id", "winner", "a_value", "b_value", "a_answer", "a_share", "b_answer",
                               "b_share", "gold")

    def __init__(self, columns: Mapping[str, np.ndarray]) -> None:
        self.columns: dict[str, np.ndarray] = {f: np.asarray(columns[f]) for f in self.FIELDS}

    def __len__(self) -> int:
        return len(self.columns["task"])

    @overload
    def __getitem__(self, i: int) -> DifferingItem: ...

    @overload
    def __getitem__(self, i: slice) -> "DifferingItems": ...

    def __getitem__(self, i: int | slice) -> "DifferingItem | DifferingItems":
        if isinstance(i, slice):
            return DifferingItems({f: c[i] for f, c in self.columns.items()})
        row: dict[str, Any] = {f: c[i].item() if isinstance(c[i], np.generic) else c[i] for f, c in self.columns.items()}
        for f in ("a_share", "b_share"):
            row[f] = None if row[f] is None or row[f] != row[f] else float(row[f])  # NaN: unknown
        return DifferingItem(**row)

    def __iter__(self) -> Iterator[DifferingItem]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(other) == len(self) and all(x == y for x, y in zip(self, other))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"DifferingItems({tuple(self)!r})"


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
    items: DifferingItems  # most confident disagreements first (columns; reads as DifferingItem records)
    skipped: tuple[Skipped, ...]


def _task_seed(seed: int, task: str) -> np.random.Generator:
    """A stream per task, so a task's interval does not depend on which other tasks were asked for."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(task.encode("utf-8"))]))


def _answers_agree(a: Outcomes, b: Outcomes, ra: np.ndarray, rb: np.ndarray) -> float | None:
    x, y = a.answer[ra], b.answer[rb]
    known = np.not_equal(x, None) & np.not_equal(y, None)
    n = int(np.count_nonzero(known))
    if not n:
        return None
    return int(np.count_nonzero(x[known] == y[known])) / n


def _paired_task(task: str, metric: Metric, a: Outcomes, b: Outcomes, ra: np.ndarray, rb: np.ndarray,
                 dropped: tuple[int, int], confidence: float, n_resamples: int, seed: int,
                 strata: np.ndarray | None = None, prices: tuple[Price | None, Price | None] = (None, None)) -> TaskResult:
    """The paired comparison of A's rows `ra` with B's rows `rb` (the same items, in the same order)."""
    xa = a.metric_values(metric, ra)
    xb = b.metric_values(metric, rb)
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
        answer_agreement=_answers_agree(a, b, ra, rb),
        dropped_a=dropped[0],
        dropped_b=dropped[1],
        a_budget=a.budget(ra, prices[0]),
        b_budget=b.budget(rb, prices[1]),
        a_contaminated=int(np.count_nonzero(a.contaminated[ra])),
        b_contaminated=int(np.count_nonzero(b.contaminated[rb])),
    )


def _natural(item_id: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting "9" before "10" and "q2" before "q10"."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", item_id) if part)


def natural_ranks(ids: Sequence[str]) -> np.ndarray:
    """Each item id's rank in natural order ("9" before "10", "q2" before "q10"; equal keys share a
    rank): the one natural order of item ids, for compare and the leaderboard. Plain decimal ids, the
    common case, are ranked by their numbers without a Python key per id."""
    ids = list(ids)
    joined = "".join(ids)
    if joined.isascii() and joined.isdigit() and min(map(len, ids)) > 0 and max(map(len, ids)) <= 18:
        numbers = np.array(ids, dtype=np.int64) if ids else np.zeros(0, dtype=np.int64)
        return np.unique(numbers, return_inverse=True)[1].reshape(-1)
    keys = [_natural(i) for i in ids]
    distinct = sorted(set(keys))
    rank = {k: r for r, k in enumerate(distinct)}
    return np.array([rank[k] for k in keys], dtype=np.int64)


def _differing(metric: Metric, a: Outcomes, b: Outcomes, ra: np.ndarray, rb: np.ndarray) -> DifferingItems:
    va, vb = a.metric_values(metric, ra), b.metric_values(metric, rb)
    gap = va - vb
    differ = gap != 0
    near = np.flatnonzero(differ & (np.abs(gap) < 1e-9))  # equal up to rounding: decided as round() decides
    differ[near] = [round(float(g), 12) != 0 for g in gap[near]]
    keep = np.flatnonzero(differ)
    ra, rb, va, vb = ra[keep], rb[keep], va[keep], vb[keep]
    sa, sb = a.share[ra], b.share[rb]
    sa0, sb0 = np.nan_to_num(sa, nan=0.0), np.nan_to_num(sb, nan=0.0)
    tasks = a.task[ra].tolist()
    rank = {t: r for r, t in enumerate(sorted(set(tasks)))}
    task_rank = np.fromiter((rank[t] for t in tasks), dtype=np.int64, count=len(tasks))
    # Largest gap first (for maj@k every gap is 1), then both models most sure of their answers; a
    # stable sort on the keys a Python sort of the items would use.
    order = np.lexsort((natural_ranks(a.item_id[ra].tolist()), task_rank, -(sa0 + sb0), -np.minimum(sa0, sb0),
                        -np.abs(va - vb)))
    ra, rb, va, vb = ra[order], rb[order], va[order], vb[order]
    gold = a.gold[ra].copy()
    unknown = np.equal(gold, None)
    gold[unknown] = b.gold[rb][unknown]
    return DifferingItems({
        "task": a.task[ra], "item_id": a.item_id[ra], "winner": np.where(va > vb, "a", "b").astype(object),
        "a_value": va, "b_value": vb, "a_answer": a.answer[ra], "a_share": a.share[ra], "b_answer": b.answer[rb],
        "b_share": b.share[rb], "gold": gold})


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
    ca, cb = Outcomes.of(a), Outcomes.of(b)
    by_task_a, by_task_b = ca.tasks(), cb.tasks()
    none: np.ndarray = np.zeros(0, dtype=np.int64)
    wanted = list(dict.fromkeys(tasks)) if tasks is not None else sorted(set(by_task_a) | set(by_task_b))

    results: list[TaskResult] = []
    skipped: list[Skipped] = []
    shared_a: list[np.ndarray] = []  # the compared rows of A and of B, item by item
    shared_b: list[np.ndarray] = []
    dropped_total = [0, 0]
    for task in wanted:
        ia, ib = by_task_a.get(task, none), by_task_b.get(task, none)
        # Each task's rows are sorted by item id, so the shared ones come out in `sorted()` order.
        _, pa, pb = np.intersect1d(ca.item_id[ia], cb.item_id[ib], assume_unique=True, return_indices=True)
        if not pa.size:
            missing = tuple(name for name, ids in ((a_name, ia), (b_name, ib)) if not ids.size)
            skipped.append(Skipped(task, missing, len(ia), len(ib)))
            continue
        ra, rb = ia[pa], ib[pb]
        dropped = (len(ia) - len(ra), len(ib) - len(rb))
        dropped_total[0] += dropped[0]
        dropped_total[1] += dropped[1]
        try:
            results.append(_paired_task(task, metric, ca, cb, ra, rb, dropped, confidence, n_resamples, seed,
                                        prices=(a_price, b_price)))
        except HarnessError as e:
            raise HarnessError(f"task {task}: {e}") from None
        shared_a.append(ra)
        shared_b.append(rb)
    all_a = np.concatenate(shared_a) if shared_a else none
    all_b = np.concatenate(shared_b) if shared_b else none

    overall: TaskResult | None = None
    size = None
    if len(results) == 1:  # the same items: the same numbers, not a second Monte Carlo draw
        overall = replace(results[0], task=OVERALL)
    elif results:
        overall = _paired_task(OVERALL, metric, ca, cb, all_a, all_b, (dropped_total[0], dropped_total[1]),
                               confidence, n_resamples, seed, strata=ca.task[all_a].astype(str),
                               prices=(a_price, b_price))
    if overall is not None and a_params is not None and b_params is not None and a_params > 1 and b_params > 1:
        ci = stats.Interval(overall.diff, overall.diff_ci_low, overall.diff_ci_high, confidence, "")
        size = stats.size_efficiency(overall.a.estimate, overall.b.estimate, a_params, b_params, ci, margin)
    return Comparison(
        a_name=a_name, b_name=b_name, a_params=a_params, b_params=b_params, metric=metric,
        confidence=confidence, n_resamples=n_resamples, seed=seed, tasks=tuple(results),
        overall=overall, size=size, items=_differing(metric, ca, cb, all_a, all_b), skipped=tuple(skipped),
    )
