"""`Touches`: a thread waits on inotify for `<db>.waiting` to be touched, by this process or another."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from harness.store.notify import Touches


@pytest.fixture
def touches(tmp_path):
    t = Touches.open(tmp_path / "x.duckdb.waiting")
    if t is None:
        pytest.skip("no inotify here (not Linux, or no watches left): the lease polls instead")
    yield t
    t.close()


def test_linux_gives_a_watch(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("inotify is Linux's")
    t = Touches.open(tmp_path / "x.duckdb.waiting")
    assert t is not None
    t.close()


def test_a_touch_from_another_process_wakes_the_waiter_at_once(tmp_path, touches):
    path = tmp_path / "x.duckdb.waiting"
    for _ in range(2):  # created, then touched again (the time changes, the file stays)
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", f"import pathlib; pathlib.Path({str(path)!r}).touch()"], check=True)
        assert touches.wait(10.0) is True
        assert time.monotonic() - started < 5.0


def test_other_files_in_the_folder_do_not_count(tmp_path, touches):
    (tmp_path / "x.duckdb").write_text("data")
    (tmp_path / "x.duckdb.wal").touch()
    assert touches.wait(0.2) is False


def test_nothing_touched_times_out(touches):
    started = time.monotonic()
    assert touches.wait(0.1) is False
    assert time.monotonic() - started >= 0.09


def test_wake_ends_a_wait_in_another_thread(touches):
    result = []
    thread = threading.Thread(target=lambda: result.append(touches.wait(30.0)))
    thread.start()
    time.sleep(0.1)
    started = time.monotonic()
    touches.wake()
    thread.join(10)
    assert result == [False] and time.monotonic() - started < 5.0


def test_events_that_piled_up_are_read_in_one_wait(tmp_path, touches):
    path = tmp_path / "x.duckdb.waiting"
    for i in range(50):
        (tmp_path / f"other{i}").touch()
    path.touch()
    assert touches.wait(1.0) is True
    assert touches.wait(0.05) is False  # all read: nothing left to wake on


def test_a_folder_that_cannot_be_watched_gives_none(tmp_path):
    assert Touches.open(tmp_path / "missing" / "x.duckdb.waiting") is None
