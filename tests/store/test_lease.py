"""A lease keeps the store's file open between a writer's operations, and lets go as soon as another
process asks for it (by touching `<db>.waiting` as it retries DuckDB's lock) or the writer pauses.
Readers here are real processes, as the leaderboard and `harness runs` are."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

from harness.records import Completion
from harness.store import Store

READER = textwrap.dedent("""
    import sys, time
    from harness.store import Store
    t = time.monotonic()
    n = Store(sys.argv[1], read_only=True, lock_timeout=float(sys.argv[2])).query(
        "SELECT count(*) AS n FROM generations")[0]["n"]
    print(n, round(time.monotonic() - t, 3), flush=True)
""")


def write(store: Store, i: int) -> None:
    store.put_generations("run", "m", "sk", [(f"p{i}", 0, i, Completion(f"answer {i}", "stop", 3))])


def read_elsewhere(db, timeout_s: float) -> subprocess.CompletedProcess:
    """Count the generations from another process, waiting at most `timeout_s` for the lock."""
    return subprocess.run([sys.executable, "-c", READER, str(db), str(timeout_s)],
                          capture_output=True, text=True, timeout=120)


def test_a_lease_opens_the_file_once_for_many_writes_and_holds_it_between_them(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    store.schema_version()
    with store.lease() as lease:
        for i in range(5):
            write(store, i)
        assert (lease.opens, lease.held) == (1, True)
        # Between writes another process that does not ask (no retries left) finds the file held.
        refused = read_elsewhere(store.path, 0)
        assert refused.returncode != 0 and "is held" in refused.stderr
        lease.idle()  # the writer pauses: the file is closed until its next write
        assert not lease.held
        assert read_elsewhere(store.path, 0).stdout.split()[0] == "5"
        write(store, 5)
        assert (lease.opens, lease.held) == (2, True)
    assert not lease.held
    assert Store(store.path, read_only=True, lock_timeout=0).query("SELECT count(*) AS n FROM generations")[0]["n"] == 6


def test_a_process_that_asks_gets_the_file_at_the_writers_next_write(tmp_path):
    """A writer writing every 50 ms under a lease, never pausing: a reader in another process touches
    `<db>.waiting` as it retries, the writer lets go after its next write and opens the file per
    write for the grace period, and the reader reads what was written so far."""
    store = Store(tmp_path / "r.duckdb")
    write(store, 0)
    stop = threading.Event()
    written = [1]

    def writer() -> None:
        while not stop.is_set():
            write(store, written[0])
            written[0] += 1
            time.sleep(0.05)

    with store.lease(grace_s=30) as lease:
        write(store, 1000)
        assert lease.held
        thread = threading.Thread(target=writer)
        thread.start()
        try:
            got = read_elsewhere(store.path, 60)
        finally:
            stop.set()
            thread.join()
        assert got.returncode == 0, got.stderr
        assert int(got.stdout.split()[0]) >= 2
        assert lease.asked >= 1
        assert not lease.held  # within the grace period it opens the file per write
        opens = lease.opens
        write(store, 2000)
        assert (lease.opens, lease.held) == (opens, False)
        assert store.waiting_path.exists()
    assert not store.waiting_path.exists()  # the writer leaves nothing beside the store


def test_a_waiting_file_touched_long_ago_is_not_a_request_but_one_touched_just_now_is(tmp_path):
    """A process may still wait that asked a moment before the lease began (the previous task's lease
    of a run saw it last), so a fresh touch counts; one from an hour ago does not."""
    store = Store(tmp_path / "r.duckdb")
    store.schema_version()
    store.waiting_path.touch()
    then = time.time() - 3600
    os.utime(store.waiting_path, (then, then))
    with store.lease() as lease:
        write(store, 0)
        write(store, 1)
        assert (lease.asked, lease.opens, lease.held) == (0, 1, True)
    store.waiting_path.touch()
    with store.lease(grace_s=60) as lease:
        write(store, 2)
        assert (lease.opens, lease.held) == (0, False)


def test_a_lease_ends_with_the_file_closed_even_when_a_write_fails(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    store.schema_version()
    try:
        with store.lease():
            write(store, 0)
            with store.connect() as con:
                con.execute("SELECT no_such_column FROM generations")
    except Exception as exc:
        assert "no_such_column" in str(exc)
    assert read_elsewhere(store.path, 0).stdout.split()[0] == "1"
