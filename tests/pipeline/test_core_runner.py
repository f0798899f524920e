"""The run loop with a fake backend: caching, resume, raising k, distinct seeds, what a crash loses."""

import pytest

from harness.data import Source
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from fakes import FakeBackend

SPEC = ModelSpec(name="fake", backend="hf", model="fake-model-id")


def do_run(store, backend, k, limit=10, task="arith", **kw):
    return run(SPEC, [get_task(task)], k, store, Source(limit=limit), backend_factory=lambda s: backend,
               progress=False, **kw)


def test_rerun_generates_nothing_and_does_not_create_a_backend(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    first = do_run(store, FakeBackend(), k=4)
    assert (first.tasks[0].generated, first.tasks[0].reused) == (40, 0)

    def no_backend(spec):
        raise AssertionError("a fully cached rerun must not load the model")

    again = run(SPEC, [get_task("arith")], 4, store, Source(limit=10), backend_factory=no_backend, progress=False)
    assert (again.tasks[0].generated, again.tasks[0].reused) == (0, 40)
    assert again.tasks[0].maj_at_k == first.tasks[0].maj_at_k
    assert store.query("SELECT count(*) AS n FROM generations")[0]["n"] == 40


def test_raising_k_generates_only_new_samples(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    do_run(store, FakeBackend(), k=4)
    b = FakeBackend()
    s = do_run(store, b, k=8)
    assert (s.tasks[0].generated, s.tasks[0].reused) == (40, 40)
    assert sorted({i for call in b.calls for _, i, _ in call}) == [4, 5, 6, 7]


def test_samples_of_an_item_draw_with_distinct_seeds_and_differ(tmp_path):
    b = FakeBackend(answer=lambda p, rng: f"The answer is {rng.randint(0, 10**9)}")
    do_run(Store(tmp_path / "r.duckdb"), b, k=8, limit=3)
    by_prompt = {}
    for call in b.calls:
        for text, _, seed in call:
            by_prompt.setdefault(text, []).append(seed)
    assert all(len(set(seeds)) == 8 for seeds in by_prompt.values())
    rows = Store(tmp_path / "r.duckdb").query(
        "SELECT prompt_hash, count(DISTINCT text) AS d FROM generations GROUP BY prompt_hash")
    assert [r["d"] for r in rows] == [8, 8, 8]


def test_seeds_reproduce_across_stores(tmp_path):
    a, b = FakeBackend(), FakeBackend()
    do_run(Store(tmp_path / "a.duckdb"), a, k=3, limit=4)
    do_run(Store(tmp_path / "b.duckdb"), b, k=3, limit=4)
    assert sorted(x for c in a.calls for x in c) == sorted(x for c in b.calls for x in c)


def test_a_crash_loses_at_most_the_batch_in_flight(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    with pytest.raises(RuntimeError, match="backend died"):
        do_run(store, FakeBackend(batch_size=8, die_after_batches=3), k=4)  # 10 items x 4 = 40 samples
    stored = store.query("SELECT count(*) AS n FROM generations")[0]["n"]
    assert stored == 24  # three whole batches of 8
    assert store.runs()[0]["status"] == "failed"
    b = FakeBackend()
    s = do_run(store, b, k=4)
    assert (s.tasks[0].generated, s.tasks[0].reused) == (16, 24)
    assert store.query("SELECT count(*) AS n, count(DISTINCT gen_key) AS d FROM generations")[0] == {"n": 40, "d": 40}


def test_results_per_item_and_task_are_stored(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    # every sample answers the gold: maj@k = pass@1 = 1
    gold = {it.fields["question"]: it.gold for it in get_task("arith").load(Source(limit=5))}
    answer = lambda prompt, rng: "The answer is " + next(g for q, g in gold.items() if q in prompt)
    s = do_run(store, FakeBackend(answer=answer), k=2, limit=5)
    t = s.tasks[0]
    assert (t.maj_at_k, t.pass_at_1, t.pass_at_k, t.n_items) == (1.0, 1.0, 1.0, 5)
    items = store.query("SELECT * FROM item_results WHERE run_id = ? ORDER BY item_id", [s.run_id])
    assert [r["maj_correct"] for r in items] == [True] * 5 and all(r["vote_share"] == 1.0 for r in items)
    scores = store.query("SELECT verdict, count(*) AS n FROM scores WHERE run_id = ? GROUP BY verdict", [s.run_id])
    assert scores == [{"verdict": "correct", "n": 10}]
    assert store.task_results(s.run_id)[0]["maj_at_k"] == 1.0


def test_sampling_change_means_new_samples(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    do_run(store, FakeBackend(), k=2, limit=3)
    s = do_run(store, FakeBackend(), k=2, limit=3, sampling={"temperature": 0.2})
    assert s.tasks[0].generated == 6


def test_n_samples_estimate_maj_at_k_over_subsets(tmp_path):
    """16 samples, 7 of them right: maj@4 is the subset estimate, pass@4 the unbiased one, and the
    per-item majority outcome (for paired comparison) is the vote over all 16."""
    from math import comb
    from harness.vote import pass_at_k
    store = Store(tmp_path / "r.duckdb")
    item = get_task("arith").load(Source(limit=1))[0]
    answer = lambda p, rng: "The answer is " + (item.gold if rng.random() < 0.45 else str(rng.randint(1000, 1002)))
    s = do_run(store, FakeBackend(answer=answer), k=4, limit=1, n=16)
    t = s.tasks[0]
    assert (t.k, t.n, t.generated) == (4, 16, 16)
    row = store.query("SELECT * FROM item_results WHERE run_id = ?", [s.run_id])[0]
    c = row["n_correct"]
    assert 0 < c < 16
    assert t.pass_at_k == pytest.approx(pass_at_k(16, c, 4))
    assert row["maj_at_k"] == pytest.approx(t.maj_at_k) and 0.0 < t.maj_at_k < 1.0
    # brute force over all C(16,4) subsets, voting as harness.vote does
    from itertools import combinations
    from harness.vote import vote
    scores = store.query("SELECT sample_index, verdict, cls, canonical, extracted FROM scores WHERE run_id = ? "
                         "ORDER BY sample_index", [s.run_id])
    from harness.records import Grade
    grades = [Grade(r["extracted"], r["canonical"], r["verdict"], r["cls"]) for r in scores]
    brute = sum(vote([grades[i] for i in sub]).maj_correct for sub in combinations(range(16), 4)) / comb(16, 4)
    assert t.maj_at_k == pytest.approx(brute)
    with pytest.raises(Exception, match="at least -k"):
        do_run(store, FakeBackend(), k=4, limit=1, n=2)
