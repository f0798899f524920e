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
from contextlib import contextmanager
from typing import Iterator

import pytest

from harness.records import Completion
from harness.store import Store


@pytest.fixture(autouse=True, params=["inotify", "polling"])
def watching(request, monkeypatch):
    """Every test twice: the lease's watcher woken by inotify (Linux), and looking every WATCH_S
    where there is no inotify."""
    if request.param == "polling":
        monkeypatch.setattr("harness.store.store.Touches.open", classmethod(lambda cls, path: None))
    return request.param

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


@contextmanager
def writing(store: Store, every_s: float) -> Iterator[None]:
    """A thread writing one generation every `every_s` for the block (keys 1, 2, ...)."""
    stop = threading.Event()

    def writer() -> None:
        i = 1
        while not stop.is_set():
            write(store, i)
            i += 1
            time.sleep(every_s)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


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
        lease.idle()  # closed until the next write
        assert not lease.held
        assert read_elsewhere(store.path, 0).stdout.split()[0] == "5"
        write(store, 5)
        assert (lease.opens, lease.held) == (2, True)
    assert not lease.held
    assert Store(store.path, read_only=True, lock_timeout=0).query("SELECT count(*) AS n FROM generations")[0]["n"] == 6


def test_a_process_that_asks_gets_the_file_from_a_writer_that_never_pauses(tmp_path, monkeypatch):
    """A writer writing every 50 ms under a lease: a reader in another process touches `<db>.waiting`
    as it retries, the writer closes the file and waits for the reader's next try, and the reader
    reads what was written so far; after the grace period the writer holds the file again."""
    import harness.store.store as store_module

    monkeypatch.setattr(store_module, "GRACE_S", 0.2)
    store = Store(tmp_path / "r.duckdb")
    write(store, 0)
    with store.lease() as lease:
        write(store, 1000)
        assert lease.held
        with writing(store, 0.05):
            got = read_elsewhere(store.path, 60)
            assert got.returncode == 0, got.stderr
            assert lease.asked >= 1
            time.sleep(0.5)
        assert int(got.stdout.split()[0]) >= 2
        assert lease.held and lease.opens >= 2  # it let go and took the file back
        assert store.waiting_path.exists()
    assert not store.waiting_path.exists()  # the writer leaves nothing beside the store


def test_a_process_that_tries_once_and_again_later_gets_in_the_second_time(tmp_path, monkeypatch):
    """A poller that does not wait (lock timeout 0) is refused once, but its try asked for the file:
    the writer, writing every 0.1 s, opens it per write from then on for the grace period, so a later
    try finds it free."""
    import harness.store.store as store_module

    monkeypatch.setattr(store_module, "LINGER_S", 3600.0)  # no pauses: only the request lets it in
    store = Store(tmp_path / "r.duckdb")
    write(store, 0)
    with store.lease(), writing(store, 0.1):
        time.sleep(0.3)
        refused = read_elsewhere(store.path, 0)
        assert refused.returncode != 0 and "is held" in refused.stderr
        # The file is free but for each write's few ms: of three tries, one gets in (every one would
        # be refused if the lease still held it).
        tries = [read_elsewhere(store.path, 0) for _ in range(3)]
        assert any(t.returncode == 0 for t in tries), [t.stderr for t in tries]


def test_a_waiting_file_from_long_ago_is_not_a_request(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    store.schema_version()
    store.waiting_path.touch()
    then = time.time() - 3600
    os.utime(store.waiting_path, (then, then))
    with store.lease() as lease:
        write(store, 0)
        write(store, 1)
        assert (lease.asked, lease.opens, lease.held) == (0, 1, True)


def test_a_writers_own_wait_for_the_file_is_not_a_request_to_itself(tmp_path):
    """A leased writer that must wait for another process (a reader holding the file) asks for it
    too; its own touch must not make its lease let go afterwards."""
    store = Store(tmp_path / "r.duckdb")
    store.schema_version()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_A_WHILE, str(store.path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with store.lease() as lease:
            write(store, 0)  # waits for the holder, asking as it retries
            assert store.waiting_path.exists()
            write(store, 1)
            assert (lease.asked, lease.opens, lease.held) == (0, 1, True)
    finally:
        holder.kill()
        holder.wait()


HOLD_A_WHILE = textwrap.dedent("""
    import duckdb, sys, time
    con = duckdb.connect(sys.argv[1], read_only=True)
    print("held", flush=True)
    time.sleep(0.5)
    con.close()
    time.sleep(60)
""")


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


def test_a_lease_lets_go_of_the_file_when_no_operation_comes(tmp_path):
    """A writer busy with something else (a model starting, the last items grading): the file is
    closed after LINGER_S without an operation, and opened again by the next one."""
    store = Store(tmp_path / "r.duckdb")
    store.schema_version()
    with store.lease() as lease:
        write(store, 0)
        deadline = time.monotonic() + 30
        while lease.held and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not lease.held
        assert read_elsewhere(store.path, 0).stdout.split()[0] == "1"
        write(store, 1)
        assert (lease.held, lease.opens) == (True, 2)


def test_a_process_that_asks_gets_the_file_while_the_writer_does_nothing(tmp_path, monkeypatch):
    """Without lingering (an hour), a reader that asks still gets the file from a writer that makes no
    operation at all: the lease's watcher sees the request."""
    import harness.store.store as store_module

    monkeypatch.setattr(store_module, "LINGER_S", 3600.0)
    store = Store(tmp_path / "r.duckdb")
    store.schema_version()
    with store.lease() as lease:
        write(store, 0)
        got = read_elsewhere(store.path, 60)
        assert got.returncode == 0, got.stderr
        assert got.stdout.split()[0] == "1"
        assert (lease.asked, lease.held) == (1, False)
