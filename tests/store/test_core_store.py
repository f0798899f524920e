import subprocess
import sys
import textwrap

import duckdb
import pytest

from harness.errors import HarnessError, StoreLocked
from harness.records import Completion, Item, Prompt
from harness.store import MIGRATIONS, Store


def test_migrations_are_recorded_and_idempotent(tmp_path):
    db = tmp_path / "r.duckdb"
    assert Store(db).schema_version() == len(MIGRATIONS)
    assert Store(db).schema_version() == len(MIGRATIONS)  # reopening applies nothing twice
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    con.close()
    assert [r[0] for r in rows] == list(range(1, len(MIGRATIONS) + 1))


def test_read_only_store_refuses_missing_file(tmp_path):
    with pytest.raises(HarnessError, match="no results store"):
        Store(tmp_path / "absent.duckdb", read_only=True)


def test_generations_are_keyed_and_never_duplicated(tmp_path):
    s = Store(tmp_path / "r.duckdb")
    rows = [("p1", 0, 11, Completion("a", "stop", 3)), ("p1", 1, 12, Completion("b", "length", 9))]
    k1 = s.put_generations("run1", "m", "sk", rows)
    k2 = s.put_generations("run2", "m", "sk", [("p1", 0, 11, Completion("DIFFERENT", "stop"))])
    assert k2[0] == k1[0]
    cached = s.cached("m", "sk", ["p1"], k=8)
    assert {key: c.completion.text for key, c in cached.items()} == {("p1", 0): "a", ("p1", 1): "b"}
    assert s.cached("m", "sk", ["p1"], k=1).keys() == {("p1", 0)}
    assert s.cached("other-model", "sk", ["p1"], k=8) == {}
    assert s.cached("m", "other-sampling", ["p1"], k=8) == {}
    assert s.query("SELECT count(*) AS n FROM generations")[0]["n"] == 2


def test_a_write_that_meets_stored_keys_stores_only_the_new_ones_and_keeps_the_stored(tmp_path):
    s = Store(tmp_path / "r.duckdb")
    s.put_generations("run1", "m", "sk", [("p1", 0, 11, Completion("a", "stop", 3))])
    # One write with a stored key, a new key, and a key twice: the first of each new key is stored.
    keys = s.put_generations("run2", "m", "sk", [("p1", 0, 11, Completion("DIFFERENT", "stop")),
                                                 ("p1", 1, 12, Completion("b", "length", 9, 20, 0.5, "t", 4, True)),
                                                 ("p2", 0, 13, Completion("c", "stop")),
                                                 ("p2", 0, 13, Completion("c again", "stop"))])
    assert len(keys) == 4 and keys[2] == keys[3]
    rows = s.query("SELECT prompt_hash, sample_index, seed, run_id, text, finish, tokens, prompt_tokens, latency_s, "
                   "thinking, thinking_tokens, forced FROM generations ORDER BY prompt_hash, sample_index")
    assert [tuple(r.values()) for r in rows] == [
        ("p1", 0, 11, "run1", "a", "stop", 3, None, None, None, None, False),
        ("p1", 1, 12, "run2", "b", "length", 9, 20, 0.5, "t", 4, True),
        ("p2", 0, 13, "run2", "c", "stop", None, None, None, None, None, False)]


def test_single_threaded_blocks_nest_and_give_duckdb_its_threads_back(tmp_path):
    from harness.store.store import _PROCESS

    def threads() -> int:
        return _PROCESS.anchor().execute("SELECT current_setting('threads')").fetchone()[0]

    s, other = Store(tmp_path / "a.duckdb"), Store(tmp_path / "b.duckdb")
    before = threads()
    with s.single_threaded():
        assert threads() == 1
        with other.single_threaded():
            s.put_generations("run1", "m", "sk", [("p1", 0, 11, Completion("a", "stop"))])
        assert threads() == 1  # the outer block still holds it
    assert threads() == before
    assert s.cached("m", "sk", ["p1"], k=1)[("p1", 0)].completion.text == "a"


def test_items_and_prompts_stored_once(tmp_path):
    s = Store(tmp_path / "r.duckdb")
    p = Prompt("hello")
    s.put_items("t", 1, [(Item("0", "5", {"q": "x"}), (p,))])
    s.put_items("t", 1, [(Item("0", "5", {"q": "x"}), (p,))])
    assert s.query("SELECT count(*) AS n FROM items")[0]["n"] == 1
    assert s.query("SELECT prompt FROM prompts WHERE prompt_hash = ?", [p.hash])[0]["prompt"]


HOLDER = textwrap.dedent("""
    import duckdb, sys, time
    con = duckdb.connect(sys.argv[1])
    print("held", flush=True)
    time.sleep(30)
""")


def test_a_file_held_by_another_writer_gives_a_clear_error(tmp_path):
    db = tmp_path / "r.duckdb"
    Store(db).schema_version()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLocked, match=r"is held by .*PID \d+.*--db"):
            Store(db, lock_timeout=0.5).runs()
    finally:
        holder.kill()
        holder.wait()
    assert Store(db).runs() == []  # usable again once the holder is gone
