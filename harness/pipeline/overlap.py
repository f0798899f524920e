"""One worker thread beside generation: the run loop hands it each finished chunk (store, grade) and
goes back to the engine at once.

Overlap is real because the engines wait outside Python's lock: vLLM's engine core is its own
process, an OpenAI-compatible server another machine, and torch releases the lock while it computes.
Jobs run one at a time in the order given. The first job to fail stops the rest (they are skipped,
except `always` jobs: storing what was generated) and its exception is raised in the caller's thread
at the next `submit` or at `join`.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable


class Worker:
    def __init__(self, name: str = "harness-post"):
        self._jobs: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...], bool] | None] = queue.Queue()
        self._lock = threading.Lock()
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

    def submit(self, fn: Callable[..., Any], *args: Any, always: bool = False) -> None:
        """Queue `fn(*args)`; an `always` job runs even after a failure (and does not raise one)."""
        if not always:
            self.check()
        with self._lock:
            self._pending += 1
        self._jobs.put((fn, args, always))

    def check(self) -> None:
        """Raise the exception of a job that failed, if one did."""
        if self._error is not None:
            raise self._error

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
