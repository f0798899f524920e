"""One nightly at a time: a lock file naming its holder (PID, host, start time, night).

The lock is an `flock` on the file, held for the whole night: the kernel drops it when the holder
exits, however it exits, so a crash can never leave a lock that blocks the next night. The file's
contents only say who holds it; they are cleared on a clean exit. A file that still names a holder
when the lock is free was therefore left by a holder that crashed (or was killed): the new night
says so and takes over. (PIDs are not compared with running processes: PIDs are reused, and a
process on another host cannot be seen; the kernel's lock needs neither.)
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


class NightlyLocked(HarnessError):
    """Another nightly holds the lock."""


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int
    host: str
    started_at: str  # ISO 8601, UTC
    night_id: str | None = None

    def describe(self) -> str:
        night = f", night {self.night_id}" if self.night_id else ""
        return f"PID {self.pid} on {self.host}, started {self.started_at}{night}"


def _read_holder(text: str) -> Holder | None:
    try:
        d = json.loads(text)
        return Holder(int(d["pid"]), str(d["host"]), str(d["started_at"]), d.get("night_id"))
    except (ValueError, KeyError, TypeError):
        return None


class NightlyLock:
    """`with NightlyLock(path, night_id) as lock:` holds the lock; `lock.stale` is the holder a
    crashed night left behind (None when the last night ended cleanly)."""

    def __init__(self, path: str | Path, night_id: str | None = None):
        self.path = Path(path)
        self.night_id = night_id
        self.stale: Holder | None = None
        self._fd: int | None = None
        self.holder: Holder | None = None

    def acquire(self) -> "NightlyLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            os.close(fd)
            holder = _read_holder(text)
            who = holder.describe() if holder else "a process that has not written its name yet"
            raise NightlyLocked(f"another nightly is running ({who}; lock {self.path}): "
                                "wait for it to finish, or give this one another --lock") from None
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
        self.stale = _read_holder(text) if text.strip() else None
        me = Holder(os.getpid(), socket.gethostname(),
                    datetime.now(timezone.utc).isoformat(timespec="seconds"), self.night_id)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_as_dict(me)).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        self.holder = me
        return self

    def set_night(self, night_id: str) -> None:
        """Name the night in the lock file once it is known (a resumed night's id comes from the store)."""
        if self._fd is None or self.holder is None:
            raise RuntimeError("lock not held")
        self.night_id = night_id
        me = Holder(self.holder.pid, self.holder.host, self.holder.started_at, night_id)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps(_as_dict(me)).encode(), 0)
        self.holder = me

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)  # a clean exit leaves an empty file: the next night sees no crash
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "NightlyLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _as_dict(h: Holder) -> dict[str, Any]:
    return {"pid": h.pid, "host": h.host, "started_at": h.started_at, "night_id": h.night_id}
