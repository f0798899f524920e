"""A pool of worker processes for checks that may not finish: one that overruns is killed and replaced.

Why processes: a Python thread cannot be stopped, and `signal.alarm` only works on the main thread,
so the only reliable bound on a sympy call is a process we can SIGKILL. Each worker also runs under
an address-space limit (`memory_mb`), so a check that allocates without bound dies instead of the
machine swapping.

How a batch runs (`WorkerPool.run`): jobs are cut into chunks and a chunk is sent to each idle
worker in one message; a worker answers job by job, so a kill loses only the job it was on. Each
job has `timeout_s` from the moment the previous answer (or the chunk) arrived. A worker past that
deadline is killed and replaced; its current job gets ("err", "timeout", ...) and the rest of its
chunk goes back to the queue. A worker that dies on its own (a crash, the memory limit) is treated
the same way. Results come back in job order.

Workers are started with the `forkserver` method where available, with the sympy module preloaded,
so replacing a killed worker costs milliseconds rather than a fresh sympy import, and the parent's
threads (torch, tokenizers) are never forked.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import sys
import threading
import time
import types
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Sequence

Job = tuple[Any, ...]
Result = tuple[Any, ...]

_PRELOAD = ["harness.grading.math.warm"]  # sympy imported and warmed up (see warm.py)


def _worker_main(conn: Connection, memory_mb: int | None) -> None:
    """Loop: receive a chunk [(index, job), ...], answer (index, result) per job; None stops."""
    if memory_mb:
        try:
            import resource

            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):
            pass
    from harness.grading.math.symbolic import run_job

    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        for index, job in chunk:
            conn.send((index, run_job(job)))


_MAIN_LOCK = threading.Lock()


@contextlib.contextmanager
def _without_main_module():
    """Hide `__main__` while a worker starts. forkserver and spawn children re-import the parent's main
    script, which fails for `python - < script`, notebooks and scripts without a `__main__` guard; the
    worker needs only this module, so it is started as if the parent had no main script."""
    with _MAIN_LOCK:
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved


def _context() -> mp.context.BaseContext:
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        try:
            ctx.set_forkserver_preload(_PRELOAD)
        except Exception:  # pragma: no cover - preload is an optimization only
            pass
        return ctx
    return mp.get_context("spawn")


@dataclass
class _Worker:
    process: Any
    conn: Connection
    assigned: deque = field(default_factory=deque)  # indices of the chunk, in order
    deadline: float = 0.0


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a live process has used, from /proc (0.0 where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class WorkerPool:
    """`size` worker processes; `run(jobs)` returns one result per job. Start is lazy."""

    # CPU seconds of every worker this process's pools have stopped or killed, read just before: the
    # grading work done outside the parent (benchmarks/vllm_overhead.py adds it to the harness's CPU).
    retired_cpu_s = 0.0

    def __init__(self, size: int | None = None, timeout_s: float = 5.0, memory_mb: int | None = 3072,
                 chunk: int = 256):
        self.size = max(1, size if size is not None else min(2, os.cpu_count() or 1))
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.chunk = chunk
        self.workers: list[_Worker] = []
        self.kills = 0  # workers killed for overrunning (or found dead): visible to tests and logs
        self.round_trips = 0  # chunks sent: how many messages the batches took
        self._ctx = None

    def _spawn(self) -> _Worker:
        if self._ctx is None:
            self._ctx = _context()
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_worker_main, args=(child, self.memory_mb), daemon=True)
        with _without_main_module():
            proc.start()
        child.close()
        return _Worker(proc, parent)

    @classmethod
    def _retire(cls, w: _Worker) -> None:
        if w.process.pid is not None:
            cls.retired_cpu_s += _cpu_s(w.process.pid)

    def _replace(self, i: int) -> None:
        w = self.workers[i]
        self._retire(w)
        try:
            w.process.kill()
        except Exception:  # pragma: no cover - already gone
            pass
        w.process.join(timeout=5)
        w.conn.close()
        self.kills += 1
        self.workers[i] = self._spawn()

    def start(self) -> None:
        """Start the workers now rather than at the first `run` (e.g. while a model generates)."""
        while len(self.workers) < self.size:
            self.workers.append(self._spawn())

    def run(self, jobs: Sequence[Job]) -> list[Result]:
        if not jobs:
            return []
        self.start()
        results: list[Result | None] = [None] * len(jobs)
        queue: deque[int] = deque(range(len(jobs)))
        done = failed_rounds = 0
        while done < len(jobs):
            for w in self.workers:  # hand out chunks to idle workers
                if not w.assigned and queue:
                    size = max(1, min(self.chunk, -(-len(queue) // self.size)))
                    idx = [queue.popleft() for _ in range(min(size, len(queue)))]
                    try:
                        w.conn.send([(i, jobs[i]) for i in idx])
                    except (OSError, BrokenPipeError):
                        queue.extendleft(reversed(idx))
                        self._replace(self.workers.index(w))
                        continue
                    self.round_trips += 1
                    w.assigned.extend(idx)
                    w.deadline = time.monotonic() + self.timeout_s
            busy = [w for w in self.workers if w.assigned]
            if not busy:  # every idle worker was found dead on send and replaced: hand out again
                failed_rounds += 1
                if failed_rounds > 3:
                    raise RuntimeError("grading workers die as soon as they start; see the worker's stderr")
                continue
            failed_rounds = 0
            now = time.monotonic()
            wait_s = max(0.0, min(w.deadline for w in busy) - now)
            ready = set(wait([w.conn for w in busy], timeout=wait_s))
            for i, w in enumerate(list(self.workers)):
                if not w.assigned:
                    continue
                if w.conn in ready:
                    try:
                        while w.conn.poll():
                            index, result = w.conn.recv()
                            results[index] = result
                            done += 1
                            if w.assigned and w.assigned[0] == index:
                                w.assigned.popleft()
                            w.deadline = time.monotonic() + self.timeout_s
                            if not w.assigned:
                                break
                        continue
                    except (EOFError, OSError):
                        reason = "worker died (crash or memory limit)"
                elif time.monotonic() >= w.deadline:
                    reason = f"check exceeded {self.timeout_s:g} s"
                else:
                    continue
                stuck = w.assigned.popleft()
                results[stuck] = ("err", "timeout", reason)
                done += 1
                queue.extendleft(reversed(w.assigned))
                w.assigned.clear()
                self._replace(i)
        return [r if r is not None else ("err", "timeout", "lost") for r in results]

    def close(self) -> None:
        for w in self.workers:
            self._retire(w)  # idle between batches: what it used is final
            try:
                w.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in self.workers:
            w.process.join(timeout=1)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=5)
            w.conn.close()
        self.workers = []

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
