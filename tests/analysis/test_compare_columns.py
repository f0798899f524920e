"""`compare` computes on columns (`harness.analysis.compare.Outcomes`): the numbers must be exactly the
ones the item-by-item path gave before it, on a real DuckDB file.

`reference_compare` below is that earlier path, kept here verbatim in substance: one `ItemOutcome` per
item (read with `ItemOutcome.from_row` from the store's `latest_results` dicts), the paired statistics
of `harness.analysis.stats` on lists built item by item, `Budget.of` over the items, and the
differing items sorted by a Python key. The store mixes what the columns must get right: tasks one
model lacks, items only one model has, ids that sort naturally ("q2" before "q10"), missing vote
answers and token counts (and vote shares, which only outcomes built in memory lack), pass rates of c/k, contaminated items."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from factories import item_result, start_run, task_result
from harness.analysis import stats
from harness.analysis.compare import (OVERALL, Budget, Comparison, DifferingItem, ItemOutcome, Outcomes, Skipped,
                                      TaskResult, _task_seed, compare)
from harness.analysis.results import from_frame, from_rows, load_results
from harness.errors import HarnessError
from harness.store import Store, queries

K = 4
# model -> task -> item ids it has
HAS = {
    "small": {"arith": [str(i) for i in range(3, 70)], "word": [f"q{i}" for i in range(0, 40)],
              "mixed": ["10", "9", "a-1", "a-10", "a-2", "007", "7"]},
    "large": {"arith": [str(i) for i in range(0, 80)], "word": [f"q{i}" for i in range(5, 60)],
              "mixed": ["10", "9", "a-1", "a-10", "a-2", "007", "7"], "only_large": ["1", "2"]},
}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("columns") / "results.duckdb"
    store = Store(path)
    rng = random.Random(7)
    for name, tasks in HAS.items():
        run_id = start_run(store, name, k=K, tasks=list(tasks), params_b=1.5 if name == "small" else 70.0)
        for task, ids in tasks.items():
            rows = []
            for item_id in ids:
                c = rng.randint(0, K)
                correct = rng.random() < 0.5
                tokens = None if rng.random() < 0.1 and task == "word" else rng.randint(50, 400)
                rows.append(item_result(
                    run_id, task, item_id, correct=correct, pass_at_1=c / K, k=K,
                    answer=None if rng.random() < 0.1 else rng.choice(["1", "2", "42"]),
                    share=rng.choice([0.25, 0.5, 0.75, 1.0]) if task != "word" else 1.0,  # word: ties
                    n_correct=c, pass_at_k=float(c > 0), completion_tokens=tokens,
                    prompt_tokens=None if task == "mixed" else 30 * K, n_unfinished=rng.randint(0, 1),
                    possibly_contaminated=rng.random() < 0.1))
            store.put_results([], rows, task_result(rows, k=K))
        store.finish_run(run_id, "done")
    return path


# --- the item-by-item path, as it was -----------------------------------------------------------


def _natural(item_id: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", item_id) if p)


def _paired(task, metric, a, b, dropped, confidence, n_resamples, seed, strata=None, prices=(None, None)):
    xa = np.array([o.value(metric) for o in a])
    xb = np.array([o.value(metric) for o in b])
    rng = _task_seed(seed, task)
    r = (stats.paired_binary if metric == "maj@k" else stats.paired_means)(xa, xb, confidence, n_resamples, rng,
                                                                            strata)
    known = [(x.answer, y.answer) for x, y in zip(a, b) if x.answer is not None and y.answer is not None]
    return TaskResult(task=task, metric=metric, n_items=r.n, a=r.a, b=r.b, diff=r.diff.estimate,
                      diff_ci_low=r.diff.low, diff_ci_high=r.diff.high, p_value=r.p_value, p_method=r.p_method,
                      a_only=r.a_only, b_only=r.b_only, agreement=r.agreement,
                      answer_agreement=sum(x == y for x, y in known) / len(known) if known else None,
                      dropped_a=dropped[0], dropped_b=dropped[1], a_budget=Budget.of(a, prices[0]),
                      b_budget=Budget.of(b, prices[1]), a_contaminated=sum(o.contaminated for o in a),
                      b_contaminated=sum(o.contaminated for o in b))


def reference_compare(a, b, *, a_name, b_name, metric, tasks=None, a_params=None, b_params=None,
                      n_resamples=stats.DEFAULT_RESAMPLES, seed=stats.DEFAULT_SEED, a_price=None, b_price=None):
    confidence = stats.DEFAULT_CONFIDENCE
    by_a: dict[str, set[str]] = {}
    by_b: dict[str, set[str]] = {}
    for t, i in a:
        by_a.setdefault(t, set()).add(i)
    for t, i in b:
        by_b.setdefault(t, set()).add(i)
    wanted = list(dict.fromkeys(tasks)) if tasks is not None else sorted(set(by_a) | set(by_b))
    results, skipped, shared, dropped_total = [], [], [], [0, 0]
    for task in wanted:
        ia, ib = by_a.get(task, set()), by_b.get(task, set())
        common = sorted(ia & ib)
        if not common:
            skipped.append(Skipped(task, tuple(n for n, ids in ((a_name, ia), (b_name, ib)) if not ids),
                                   len(ia), len(ib)))
            continue
        keys = [(task, i) for i in common]
        dropped = (len(ia - ib), len(ib - ia))
        dropped_total[0] += dropped[0]
        dropped_total[1] += dropped[1]
        try:
            results.append(_paired(task, metric, [a[k] for k in keys], [b[k] for k in keys], dropped, confidence,
                                   n_resamples, seed, prices=(a_price, b_price)))
        except HarnessError as e:
            raise HarnessError(f"task {task}: {e}") from None
        shared.extend(keys)
    overall = size = None
    if len(results) == 1:
        overall = replace(results[0], task=OVERALL)
    elif results:
        overall = _paired(OVERALL, metric, [a[k] for k in shared], [b[k] for k in shared], tuple(dropped_total),
                          confidence, n_resamples, seed, strata=[k[0] for k in shared], prices=(a_price, b_price))
    if overall is not None and a_params and b_params:
        ci = stats.Interval(overall.diff, overall.diff_ci_low, overall.diff_ci_high, confidence, "")
        size = stats.size_efficiency(overall.a.estimate, overall.b.estimate, a_params, b_params, ci, 0.02)
    items = []
    for key in shared:
        oa, ob = a[key], b[key]
        va, vb = oa.value(metric), ob.value(metric)
        if round(va - vb, 12) == 0:
            continue
        items.append(DifferingItem(task=key[0], item_id=key[1], winner="a" if va > vb else "b", a_value=va,
                                   b_value=vb, a_answer=oa.answer, a_share=oa.share, b_answer=ob.answer,
                                   b_share=ob.share, gold=oa.gold if oa.gold is not None else ob.gold))
    items.sort(key=lambda d: (-abs(d.a_value - d.b_value), -d.confidence,
                              -((d.a_share or 0.0) + (d.b_share or 0.0)), d.task, _natural(d.item_id)))
    return Comparison(a_name=a_name, b_name=b_name, a_params=a_params, b_params=b_params, metric=metric,
                      confidence=confidence, n_resamples=n_resamples, seed=seed, tasks=tuple(results),
                      overall=overall, size=size, items=tuple(items), skipped=tuple(skipped))


def item_by_item(store: Store, name: str) -> dict:
    """A model's outcomes as the commands built them: one ItemOutcome per latest_results dict."""
    return {(r["task"], r["item_id"]): replace(
        ItemOutcome.from_row(r), prompt_tokens=r["prompt_tokens"], completion_tokens=r["completion_tokens"],
        thinking_tokens=r["thinking_tokens"], n_forced=r["n_forced"])
        for r in store.latest_results([name])}


# --- the tests ----------------------------------------------------------------------------------


def same(c: Comparison) -> str:
    """Every number and record of a comparison, its differing items as records (the columns read one by one)."""
    return repr(replace(c, items=tuple(c.items)))


@pytest.mark.parametrize("metric", ["maj@k", "pass@1", "pass@k"])
@pytest.mark.parametrize("tasks", [None, ["word"], ["mixed", "arith", "only_large", "nowhere"]])
def test_columns_give_exactly_the_item_by_item_numbers(db: Path, metric, tasks) -> None:
    store = Store(db, read_only=True)
    ref_a, ref_b = item_by_item(store, "small"), item_by_item(store, "large")
    want = reference_compare(ref_a, ref_b, a_name="small", b_name="large", metric=metric, tasks=tasks,
                             a_params=1.5e9, b_params=70e9, n_resamples=2_000, a_price={"output": 2.0, "input": 1.0})
    cli_a, cli_b = load_results(store, "small"), load_results(store, "large")  # the commands' read
    assert isinstance(cli_a.outcomes, Outcomes)
    with store.connect() as con:
        frame = queries.latest_results(con, ["small", "large"])  # the page's read
    page_a, page_b = from_frame("small", frame), from_frame("large", frame)
    rows = frame.to_dict("records")
    for a, b in ((cli_a, cli_b), (page_a, page_b), (from_rows("small", rows), from_rows("large", rows))):
        got = compare(a.outcomes, b.outcomes, a_name="small", b_name="large", metric=metric, tasks=tasks,
                      a_params=a.params, b_params=b.params, n_resamples=2_000, a_price={"output": 2.0, "input": 1.0})
        assert same(got) == same(want) and got == want
    # dicts of ItemOutcome (nightly and the demo build those) go through the same columns
    assert same(compare(ref_a, ref_b, a_name="small", b_name="large", metric=metric, tasks=tasks,
                        a_params=1.5e9, b_params=70e9, n_resamples=2_000,
                        a_price={"output": 2.0, "input": 1.0})) == same(want)
    assert want.items and want.tasks and any(t.a_budget and t.a_budget.completion_tokens is None for t in want.tasks) \
        == (tasks is None or "word" in tasks)


def test_missing_vote_shares_and_unsorted_items_give_the_same_numbers(db: Path) -> None:
    store = Store(db, read_only=True)
    a, b = item_by_item(store, "small"), item_by_item(store, "large")
    a = {k: replace(o, share=None) if i % 3 == 0 else o for i, (k, o) in enumerate(a.items())}
    b = {k: replace(o, share=None) if i % 5 == 0 else o for i, (k, o) in enumerate(b.items())}
    b = dict(random.Random(1).sample(list(b.items()), len(b)))  # in no order: the columns sort them
    for metric in ("maj@k", "pass@1"):
        want = reference_compare(a, b, a_name="s", b_name="l", metric=metric, n_resamples=500)
        got = compare(a, b, a_name="s", b_name="l", metric=metric, n_resamples=500)
        assert same(got) == same(want) and any(d.a_share is None for d in got.items)


def test_columns_read_as_the_mapping_they_stand_for(db: Path) -> None:
    store = Store(db, read_only=True)
    ref = item_by_item(store, "large")
    got = load_results(store, "large").outcomes
    assert len(got) == len(ref) and set(got) == set(ref)
    assert all(got[k] == ref[k] for k in ref)
    assert dict(Outcomes.of(ref).items()) == ref


def test_a_key_given_twice_keeps_its_last_row_as_a_dict_does() -> None:
    o = Outcomes(["t", "t", "t"], ["1", "2", "1"], [True, True, False], [1.0, 1.0, 0.25])
    assert list(o) == [("t", "1"), ("t", "2")]
    assert not o[("t", "1")].maj_correct and o[("t", "1")].pass_at_1 == 0.25


def test_differing_items_slice_and_compare_as_records(db: Path) -> None:
    store = Store(db, read_only=True)
    c = compare(load_results(store, "small").outcomes, load_results(store, "large").outcomes, n_resamples=200)
    records = tuple(c.items)
    assert len(records) > 3 and all(isinstance(d, DifferingItem) for d in records)
    assert tuple(c.items[:3]) == records[:3] and c.items[-1] == records[-1] and c.items == records
