"""Each item's token totals are stored with its results (so the Small vs large page and `harness
compare` never join samples with generations), by `put_results` for new results and by the migration
for results stored before it, with the same rules as the join they replace."""

from __future__ import annotations

import duckdb

from harness.records import Completion
from harness.store import MIGRATIONS, ItemResultRow, RunRow, ScoreRow, Store, TaskResultRow
from harness.store.store import now

# (item, sample, completion): item "a" reports every count, "b" misses one completion count,
# "c" has a forced sample and thinking counts.
SAMPLES = [
    ("a", 0, Completion("x", "stop", 10, 5)), ("a", 1, Completion("y", "stop", 20, 5)),
    ("b", 0, Completion("x", "stop", 7, 5)), ("b", 1, Completion("y", "stop", None, 5)),
    ("c", 0, Completion("x", "stop", 30, 5, thinking="t", thinking_tokens=12, forced=True)),
    ("c", 1, Completion("y", "stop", 40, 5, thinking="t", thinking_tokens=8)),
]
EXPECTED = {  # item: prompt, completion, thinking tokens, forced samples
    "a": {"prompt_tokens": 10, "completion_tokens": 30, "thinking_tokens": None, "n_forced": 0},
    "b": {"prompt_tokens": 10, "completion_tokens": None, "thinking_tokens": None, "n_forced": 0},
    "c": {"prompt_tokens": 10, "completion_tokens": 70, "thinking_tokens": 20, "n_forced": 1},
}


def _store(path) -> Store:
    store = Store(path)
    store.start_run(RunRow(run_id="r1", model_id="m", model_name="m", started_at=now(), k=2))
    keys = store.put_generations("r1", "m", "sk", [(f"p{item}", i, i, c) for item, i, c in SAMPLES])
    scores = [ScoreRow(run_id="r1", task="t", item_id=item, sample_index=i, gen_key=key, extracted="1",
                       canonical="1", verdict="correct", cls=0, detail=None)
              for (item, i, _), key in zip(SAMPLES, keys)]
    items = [ItemResultRow(run_id="r1", task="t", task_version=1, item_id=item, gold="1", n=2, n_correct=2,
                           n_unparseable=0, n_timeout=0, maj_answer="1", maj_correct=True, vote_share=1.0,
                           margin=1.0, n_classes=1, pass_at_1=1.0, pass_at_k=1.0) for item in "abc"]
    store.put_results(scores, items, TaskResultRow(
        run_id="r1", task="t", task_version=1, n_items=3, k=2, generated=6, reused=0, maj_at_k=1.0, pass_at_1=1.0,
        pass_at_k=1.0, n_timeout=0, n_unparseable=0, finished_at=now()))
    store.finish_run("r1", "done")
    return store


def usage(store: Store) -> dict:
    cols = ("prompt_tokens", "completion_tokens", "thinking_tokens", "n_forced")
    return {r["item_id"]: {c: r[c] for c in cols} for r in store.latest_results(["m"], ["t"])}


def test_put_results_stores_each_items_token_totals(tmp_path):
    store = _store(tmp_path / "r.duckdb")
    assert usage(store) == EXPECTED  # what compare and the pages read
    rows = store.query("SELECT item_id, prompt_tokens, completion_tokens, thinking_tokens, n_forced "
                       "FROM item_results ORDER BY item_id")
    assert {r.pop("item_id"): r for r in rows} == EXPECTED


def test_the_migration_fills_in_results_stored_before_it(tmp_path):
    db = tmp_path / "r.duckdb"
    _store(db)
    con = duckdb.connect(str(db))  # back to the schema before the migration, totals unknown
    for col in ("prompt_tokens", "completion_tokens", "thinking_tokens", "n_forced"):
        con.execute(f"ALTER TABLE item_results DROP COLUMN {col}")
    version = next(v for v, (name, _) in enumerate(MIGRATIONS, 1) if name.startswith("per-item token totals"))
    for table in ("pivotal_tokens", "pivotal_prefixes", "pivotal_searches"):  # made by the migrations after it
        con.execute(f"DROP TABLE {table}")
    con.execute("DELETE FROM schema_migrations WHERE version >= ?", [version])
    con.close()
    store = Store(db)
    assert store.schema_version() == len(MIGRATIONS)
    assert usage(store) == EXPECTED


def test_the_run_loops_own_sums_are_the_stores(tmp_path):
    """The run loop sums each item's usage from the completions it has at hand instead of joining
    generations in the store: the same rules (`item_usage` on the cases above), and on a real run
    the store's own query, run again afterwards, changes nothing."""
    from harness.data import Source
    from harness.models import ModelSpec
    from harness.pipeline.results import item_usage
    from harness.pipeline.runner import run
    from harness.store.schema import ITEM_USAGE_SQL
    from harness.tasks import get_task
    from fakes import FakeBackend

    for item, expected in EXPECTED.items():
        assert dict(zip(expected, item_usage([c for it, _, c in SAMPLES if it == item]))) == expected

    store = Store(tmp_path / "run.duckdb")
    s = run(ModelSpec(name="f", backend="hf", model="fake"), [get_task("arith")], 3, store, Source(limit=8),
            backend_factory=lambda _: FakeBackend(), progress=False)
    sql = ("SELECT item_id, prompt_tokens, completion_tokens, thinking_tokens, n_forced FROM item_results "
           "WHERE run_id = ? ORDER BY item_id")
    ours = store.query(sql, [s.run_id])
    assert len(ours) == 8 and all(r["completion_tokens"] for r in ours)
    with store.connect() as con:
        con.execute(ITEM_USAGE_SQL.format(where="s.run_id = ?"), [s.run_id])
    assert store.query(sql, [s.run_id]) == ours
