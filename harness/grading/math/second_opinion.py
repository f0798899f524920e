"""A second opinion on math verdicts: Math-Verify (if installed) on the same extracted answers.

Math-Verify bounds its parses and comparisons with `signal.alarm`, which only works on a process's
main thread, and a timed-out check leaves nothing to clean up only if its process can go. So it runs
here in a child process of its own (a fresh interpreter, `python -m` this module: nothing of the
parent's threads or pools is inherited, and its process group is killed whole), on that child's main thread, never in the harness's math worker pool. The parent sends a chunk of
pairs as JSON lines and reads one answer line per pair; a child silent for `pair_timeout_s` (Math-Verify's own limits
failed, or it crashed) is killed, that pair is marked None (no opinion), and a fresh child takes the
rest. Both answers are given to it as `$\\boxed{...}$`, so its extraction finds the whole answer.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
from typing import Sequence

GRADER = "math-verify"
CHUNK = 200


def available() -> bool:
    """Whether Math-Verify is installed (it is optional)."""
    return importlib.util.find_spec("math_verify") is not None


def grader_name() -> str:
    """`math-verify X.Y.Z` of the installed package."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{GRADER} {version('math-verify')}"
    except PackageNotFoundError:
        return GRADER


def _wrap(answer: str) -> str:
    return "$\\boxed{" + answer + "}$"


def _serve() -> None:  # the child: `python -m harness.grading.math.second_opinion`, on its main thread
    from math_verify import parse, verify

    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        i, gold, answer = json.loads(line)
        try:
            ok = bool(verify(parse(_wrap(gold)), parse(_wrap(answer))))
        except Exception:  # Math-Verify's own failures (and its timeouts, raised as exceptions)
            ok = None
        sys.stdout.write(json.dumps([i, ok]) + "\n")
        sys.stdout.flush()


class _Child:
    """The child process, with line-by-line reads under a deadline."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "harness.grading.math.second_opinion"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1, start_new_session=True)
        self._buf = b""

    def readline(self, timeout_s: float) -> str | None:
        """The child's next line, or None when none came within `timeout_s` (or it died). Reads the
        pipe's file descriptor itself, so lines already received are never hidden in a buffer."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            ready, _, _ = select.select([fd], [], [], timeout_s)
            if not ready:
                return None
            data = os.read(fd, 65536)
            if not data:
                return None
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode() + "\n"

    def send(self, rows: Sequence[tuple[int, str, str]]) -> bool:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write("".join(json.dumps(list(r)) + "\n" for r in rows))
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                f.close()  # type: ignore[union-attr]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # type: ignore[union-attr]
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


def math_verify_verdicts(pairs: Sequence[tuple[str, str | None]], *, pair_timeout_s: float = 30.0,
                         start_timeout_s: float = 120.0) -> list[bool | None]:
    """Math-Verify's verdict on each (gold, extracted answer): True (equivalent), False, or None (no
    opinion: no answer to judge, an error, or a check past `pair_timeout_s`). The first answer of a
    fresh child may also wait for its import (`start_timeout_s`)."""
    out: list[bool | None] = [None] * len(pairs)
    todo = [(i, g, a) for i, (g, a) in enumerate(pairs) if a is not None and a.strip() and g is not None]
    child: _Child | None = None
    try:
        while todo:
            if child is None:
                child = _Child()
                if child.readline(start_timeout_s) != "ready\n":
                    child.kill()
                    raise RuntimeError("Math-Verify's process did not start (is math-verify installed?)")
            chunk, todo = todo[:CHUNK], todo[CHUNK:]
            done = 0
            if child.send(chunk):
                while done < len(chunk):
                    line = child.readline(pair_timeout_s)
                    if line is None:
                        break
                    i, ok = json.loads(line)
                    out[i] = ok
                    done += 1
            if done < len(chunk):  # overran or died: the pair it was on gets no opinion; the rest go again
                child.kill()
                child = None
                todo = chunk[done + 1:] + todo
    finally:
        if child is not None:
            child.close()
    return out


if __name__ == "__main__":
    _serve()
