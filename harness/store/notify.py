"""Wait for a file to be touched without polling: Linux's inotify, through ctypes.

A store's lease must notice within milliseconds that another process asked for the file (it touches
`<db>.waiting`). Polling for that every 50 ms cost a run about 0.04 s of CPU per 1,000 samples, taken
from an engine generating on the same cores; a thread blocked on inotify costs nothing until the touch.
Where inotify is missing (not Linux, a sandbox without it, too many watches) `Touches.open` returns
None and the caller polls. inotify does not see changes made by another machine on a network file
system; the lease's own look after each operation still does.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import select
import struct
from pathlib import Path

IN_ATTRIB = 0x004  # the time changed: `touch` of a file that exists
IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100  # `touch` of a file that does not exist yet
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name, NUL-padded

_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL | None:
    global _libc
    if _libc is None:
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            lib.inotify_init1, lib.inotify_add_watch  # noqa: B018 - both exist, or AttributeError
        except (OSError, AttributeError):
            return None
        _libc = lib
    return _libc


class Touches:
    """A watch on one file's folder: `wait(timeout)` returns True once the file was created or touched
    (or False when the timeout passed or `wake()` was called first). `close()` frees the watch."""

    def __init__(self, fd: int, name: bytes):
        self._fd = fd
        self._name = name
        self._wake_r, self._wake_w = os.pipe()

    @classmethod
    def open(cls, path: Path) -> "Touches | None":
        """A watch for `path` (whose folder exists), or None where inotify cannot give one."""
        lib = _lib()
        if lib is None:
            return None
        fd = lib.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            return None
        folder = os.fsencode(path.parent if str(path.parent) else ".")
        if lib.inotify_add_watch(fd, folder, IN_ATTRIB | IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO) < 0:
            os.close(fd)
            return None
        return cls(fd, os.fsencode(path.name))

    def wait(self, timeout: float | None) -> bool:
        """Block until the file is touched, `wake()` is called or `timeout` seconds pass."""
        ready, _, _ = select.select([self._fd, self._wake_r], [], [], timeout)
        if self._wake_r in ready:
            os.read(self._wake_r, 4096)
        return self._fd in ready and self._drain()

    def _drain(self) -> bool:
        """Read every pending event; whether one was about the file."""
        touched = False
        while True:
            try:
                data = os.read(self._fd, 64 * 1024)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return touched
                raise
            at = 0
            while at + _EVENT.size <= len(data):
                _, _, _, size = _EVENT.unpack_from(data, at)
                name = data[at + _EVENT.size:at + _EVENT.size + size].rstrip(b"\0")
                touched = touched or name == self._name
                at += _EVENT.size + size

    def wake(self) -> None:
        """Make a `wait` in another thread return now."""
        os.write(self._wake_w, b"x")

    def close(self) -> None:
        for fd in (self._fd, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
