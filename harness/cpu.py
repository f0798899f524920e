"""How many threads the project's own CPU work (torch generation and training) takes.

torch's OpenMP threads spin while they wait for each other: with two of them on two cores and
another CPU-bound process beside them, every parallel region waits for a core the other process
holds. Measured here (FACTS.md): a demo 8x slower, a 60-step fine-tune 265 s with 2 threads against
23 s with 1. So a thread count is chosen on purpose, never left to torch's default:

- `HARNESS_THREADS` (or `OMP_NUM_THREADS`) when set;
- else the cores this process may use, less those other processes keep busy (the one-minute load
  average, less this command's own share: its own CPU time and that of the child processes it has
  waited for, such as the loop's fine-tuning workers), at least 1.
"""

from __future__ import annotations

import os
import time

THREADS_ENV = "HARNESS_THREADS"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of every child process it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


_STARTED = (time.monotonic(), cpu_seconds())


def own_load() -> float:
    """This command's share of the load average: its CPU seconds per second since the project was
    imported, its finished child processes' included (a command that has been generating for a minute
    is one busy core of the load; two fine-tuning workers that just finished were two)."""
    wall = time.monotonic() - _STARTED[0]
    if wall < 5.0:
        return 0.0
    return max(0.0, min(float(cores()), (cpu_seconds() - _STARTED[1]) / wall))


def threads(own: float | None = None) -> int:
    """Threads for one torch process. `own`: how much of the load average is this process's own work
    (by default measured: `own_load`), so a command does not count itself as somebody else."""
    own = own_load() if own is None else own
    for name in (THREADS_ENV, "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    n = cores()
    try:
        busy = max(0.0, os.getloadavg()[0] - own)
    except OSError:  # pragma: no cover - no load average
        busy = 0.0
    return max(1, min(n, round(n - busy)))


def set_torch_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads (the count above unless `n` is given); returns it."""
    import torch

    n = threads() if n is None else n
    torch.set_num_threads(n)
    return n
