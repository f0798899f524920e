"""Worker threads beside generation: the run loop hands each finished chunk to a store thread and
goes back to the engine at once; the store thread hands the items a chunk completed to a grading
thread.

Storing has a thread of its own so that nothing queues in front of it: a chunk is on disk a few
milliseconds after the engine hands it over, however long grading or the start of a grader's worker
pool takes (with one thread for both, a pool that took seconds to start held every finished chunk in
memory meanwhile, and `kill -9` lost them all).

Overlap is real because the engines wait outside Python's lock: vLLM's engine core is its own
process, an OpenAI-compatible server another machine, and torch releases the lock while it computes.
A worker runs its jobs one at a time in the order given. The first job to fail stops the rest (they
are skipped, except `always` jobs: storing what was generated) and its exception is raised in the
caller's thread at the next `submit`, `check`, `drain` or at `join`.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable


class Worker:
    def __init__(self, name: str = "harness-post"):
        self._jobs: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...], bool] | None] = queue.Queue()
        self._lock = threading.Condition()
        self._pending = 0
        self._error: BaseException | None = None
        self.failing = False  # set by the caller when generation failed: only `always` jobs run then
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        """Nothing queued or running: a job handed over now starts at once."""
        with self._lock:
            return self._pending == 0

    @property
    def failed(self) -> bool:
        """A job has failed (the rest, but `always` jobs, are skipped)."""
        return self._error is not None

    def submit(self, fn: Callable[..., Any], *args: Any, always: bool = False, check: bool = True) -> None:
        """Queue `fn(*args)`; an `always` job runs even after a failure (and does not raise one).
        `check=False`: queue it without raising an earlier failure here (another worker's job hands
        work over; the failure is raised in the caller's thread)."""
        if check and not always:
            self.check()
        with self._lock:
            self._pending += 1
        self._jobs.put((fn, args, always))

    def check(self) -> None:
        """Raise the exception of a job that failed, if one did."""
        if self._error is not None:
            raise self._error

    def drain(self) -> None:
        """Wait until every job handed over so far has run; raise a failed job's exception."""
        with self._lock:
            self._lock.wait_for(lambda: self._pending == 0)
        self.check()

    def join(self) -> None:
        """Run what is queued, stop the thread, and raise a failed job's exception."""
        self._jobs.put(None)
        self._thread.join()
        self.check()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, always = job
            try:
                if always or (self._error is None and not self.failing):
                    fn(*args)
            except BaseException as exc:  # handed to the caller's thread
                if self._error is None:
                    self._error = exc
            finally:
                with self._lock:
                    self._pending -= 1
                    self._lock.notify_all()
