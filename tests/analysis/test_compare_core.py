"""harness.analysis.compare on synthetic outcomes of known accuracy: the reproduced accuracies, difference
and p-value must be the ones the construction fixes, with scipy as the reference for the test."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats as sps

from harness.analysis.compare import ItemOutcome, compare
from harness.errors import HarnessError
from harness.records import Grade
from harness.vote import vote

N, BOTH, A_ONLY, B_ONLY = 500, 260, 40, 90  # A: 300/500 = 60%, B: 350/500 = 70%
NEITHER = N - BOTH - A_ONLY - B_ONLY


def known_pair(task: str = "math", n: int = N, both: int = BOTH, a_only: int = A_ONLY, b_only: int = B_ONLY,
               seed: int = 0) -> tuple[dict, dict]:
    """Outcomes with an exact discordance table, item ids shuffled so order carries no signal.
    A is sure when right (share 0.8) and torn when wrong (0.4); B is 0.9 / 0.5."""
    cells = ["both"] * both + ["a"] * a_only + ["b"] * b_only + ["neither"] * (n - both - a_only - b_only)
    ids = [f"id-{i:04d}" for i in range(n)]
    random.Random(seed).shuffle(ids)
    a, b = {}, {}
    for item_id, cell in zip(ids, cells):
        ca, cb = cell in ("both", "a"), cell in ("both", "b")
        a[(task, item_id)] = ItemOutcome(ca, 0.75 if ca else 0.25, answer="42" if ca else "41",
                                         share=0.8 if ca else 0.4, gold="42")
        b[(task, item_id)] = ItemOutcome(cb, 1.0 if cb else 0.0, answer="42" if cb else "[7]",
                                         share=0.9 if cb else 0.5, gold="42")
    return a, b


@pytest.fixture(scope="module")
def known() -> tuple[dict, dict]:
    return known_pair()


def test_reproduces_accuracies_difference_and_p_value(known) -> None:
    a, b = known
    c = compare(a, b, a_name="phi", b_name="70b")
    (t,) = c.tasks
    assert (t.task, t.metric, t.n_items) == ("math", "maj@k", N)
    assert t.a.estimate == 0.6 and t.b.estimate == 0.7
    assert t.diff == pytest.approx(-0.1, abs=1e-12)
    assert t.p_value == pytest.approx(sps.binomtest(A_ONLY, A_ONLY + B_ONLY, 0.5).pvalue, rel=1e-12)
    assert t.p_method == "mcnemar-exact"
    assert (t.a_only, t.b_only) == (A_ONLY, B_ONLY)
    assert t.agreement == pytest.approx((BOTH + NEITHER) / N)
    assert t.answer_agreement == pytest.approx(BOTH / N)  # wrong answers differ ("41" vs "[7]")
    assert (t.dropped_a, t.dropped_b) == (0, 0)
    for s, k in ((t.a, 300), (t.b, 350)):
        ref = sps.binomtest(k, N).proportion_ci(method="wilson")
        assert (s.low, s.high) == pytest.approx((ref.low, ref.high), abs=1e-12)
    # Paired bootstrap: var(d) = p_disc - diff^2 = 0.26 - 0.01 -> se = sqrt(0.25 / 500) = 0.02236.
    half = 1.96 * np.sqrt((A_ONLY + B_ONLY) / N - 0.01) / np.sqrt(N)
    assert t.diff_ci_low == pytest.approx(-0.1 - half, abs=0.004)
    assert t.diff_ci_high == pytest.approx(-0.1 + half, abs=0.004)
    assert c.overall is not None and c.overall.task == "overall"
    assert (c.overall.n_items, c.overall.diff_ci_low, c.overall.diff_ci_high) == (N, t.diff_ci_low, t.diff_ci_high)
    assert c.n_resamples == 10_000 and c.skipped == ()


def test_only_shared_items_are_compared_and_drops_are_counted(known) -> None:
    a, b = dict(known[0]), dict(known[1])
    for i in range(7):
        a[("math", f"extra-a-{i}")] = ItemOutcome(True, 1.0)
    for i in range(3):
        b[("math", f"extra-b-{i}")] = ItemOutcome(False, 0.0)
    (t,) = compare(a, b).tasks
    assert (t.n_items, t.dropped_a, t.dropped_b) == (N, 7, 3)
    assert (t.a.estimate, t.b.estimate, t.a_only, t.b_only) == (0.6, 0.7, A_ONLY, B_ONLY)


def test_missing_task_and_no_overlap_are_skipped(known) -> None:
    a, b = dict(known[0]), dict(known[1])
    a[("mbpp", "0")] = ItemOutcome(True, 1.0)
    a[("gsm8k", "1")] = ItemOutcome(True, 1.0)
    b[("gsm8k", "2")] = ItemOutcome(True, 1.0)
    c = compare(a, b, a_name="phi", b_name="70b", tasks=["math", "mbpp", "gsm8k", "humaneval"])
    assert [t.task for t in c.tasks] == ["math"]
    skipped = {s.task: s for s in c.skipped}
    assert skipped["mbpp"].missing == ("70b",) and skipped["mbpp"].a_items == 1
    assert skipped["humaneval"].missing == ("phi", "70b")
    assert skipped["gsm8k"].missing == () and (skipped["gsm8k"].a_items, skipped["gsm8k"].b_items) == (1, 1)
    empty = compare(a, b, tasks=["humaneval"])
    assert empty.tasks == () and empty.overall is None and empty.items == ()


def test_overall_pools_items_and_task_results_do_not_depend_on_other_tasks(known) -> None:
    a, b = dict(known[0]), dict(known[1])
    a2, b2 = known_pair("gsm8k", n=100, both=60, a_only=10, b_only=5, seed=1)
    a.update(a2)
    b.update(b2)
    c = compare(a, b, tasks=["math", "gsm8k"])
    assert [t.task for t in c.tasks] == ["math", "gsm8k"]
    o = c.overall
    assert o is not None and o.task == "overall" and o.n_items == 600
    assert o.a.estimate == pytest.approx(370 / 600) and o.b.estimate == pytest.approx(415 / 600)
    assert (o.a_only, o.b_only) == (50, 95)
    assert o.p_value == pytest.approx(sps.binomtest(50, 145, 0.5).pvalue, rel=1e-12)
    alone = compare(a, b, tasks=["math"]).tasks[0]
    assert alone == c.tasks[0]  # same seed stream per task, whatever else is compared


def test_deterministic_and_independent_of_input_order(known) -> None:
    a, b = known
    shuffled = list(a.items())
    random.Random(3).shuffle(shuffled)
    c1 = compare(a, b, seed=11)
    c2 = compare(dict(shuffled), b, seed=11)
    assert c1 == c2


def test_pass_at_1_uses_per_item_means_and_paired_bootstrap(known) -> None:
    a, b = known
    (t,) = compare(a, b, metric="pass@1", n_resamples=4000).tasks
    # A: 0.75 on its 300 solved items, 0.25 elsewhere; B: 1.0 on 350, 0.0 elsewhere.
    exp_a = (300 * 0.75 + 200 * 0.25) / N
    exp_b = 350 / N
    assert t.metric == "pass@1" and t.p_method == "sign-flip-permutation"
    assert t.a.estimate == pytest.approx(exp_a) and t.b.estimate == pytest.approx(exp_b)
    assert t.diff == pytest.approx(exp_a - exp_b)
    assert t.diff_ci_low < t.diff < t.diff_ci_high and t.diff_ci_high < 0
    assert t.p_value == pytest.approx(1 / 4001)  # no sign flip reaches the observed sum
    assert t.a.method == "bootstrap"
    # A's value is higher where only A solves (0.75 vs 0) and where neither does (0.25 vs 0).
    assert (t.a_only, t.b_only) == (A_ONLY + NEITHER, BOTH + B_ONLY)


def test_pass_at_k_needs_recorded_values(known) -> None:
    with pytest.raises(HarnessError, match="pass@k"):
        compare(*known, metric="pass@k")
    with pytest.raises(HarnessError, match="unknown metric"):
        compare(*known, metric="acc")  # type: ignore[arg-type]


def test_differing_items_most_confident_first(known) -> None:
    a, b = known
    c = compare(a, b, a_name="phi", b_name="70b")
    assert len(c.items) == A_ONLY + B_ONLY
    assert sum(d.winner == "a" for d in c.items) == A_ONLY
    # Only-B items: A torn (0.4) vs B sure (0.9) -> confidence 0.4; only-A items: 0.8 vs 0.5 -> 0.5.
    assert all(d.winner == "a" for d in c.items[:A_ONLY])
    assert [d.confidence for d in c.items] == sorted((d.confidence for d in c.items), reverse=True)
    first = c.items[0]
    assert (first.a_answer, first.a_share, first.b_answer, first.b_share, first.gold) == ("42", 0.8, "[7]", 0.5, "42")
    keys = [(d.task, d.item_id) for d in c.items[:A_ONLY]]
    assert keys == sorted(keys)


def test_size_efficiency_from_parameter_counts(known) -> None:
    a, b = known
    c = compare(a, b, a_name="phi", b_name="70b", a_params=14e9, b_params=70e9)
    s = c.size
    assert s is not None and s.verdict == "larger_better" and s.smaller == "a" and s.size_ratio == pytest.approx(5)
    assert s.a_per_log_param == pytest.approx(0.6 / np.log10(14e9))
    even_a, even_b = known_pair(both=300, a_only=50, b_only=50, seed=4)
    s2 = compare(even_a, even_b, a_params=14e9, b_params=70e9).size
    assert s2 is not None and s2.verdict == "indistinguishable" and not s2.equivalent
    assert compare(a, b, a_params=14e9).size is None


def test_item_outcome_from_vote() -> None:
    grades = [Grade("2", "2", "correct", 0), Grade("3", "3", "incorrect", 1),
              Grade("2", "2", "correct", 0), Grade(None, None, "unparseable", None)]
    o = ItemOutcome.from_vote(vote(grades), gold="2", k=2)
    assert o.maj_correct and o.answer == "2" and o.share == 0.5 and o.gold == "2"
    assert o.pass_at_1 == 0.5
    assert o.pass_at_k == pytest.approx(1 - 1 / 6)  # 1 - C(2,2)/C(4,2)
    assert ItemOutcome.from_vote(vote(grades)).pass_at_k is None
