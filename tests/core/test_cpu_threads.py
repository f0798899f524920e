"""The torch thread count: set on purpose, never left to torch (busy cores made a demo 8x slower)."""

from __future__ import annotations

import pytest

from harness import cpu


@pytest.mark.parametrize("load,own,want", [(0.0, 0.0, 2), (1.0, 0.0, 1), (1.0, 1.0, 2), (2.2, 1.0, 1), (9.0, 0.0, 1)])
def test_threads_leave_cores_other_processes_use(monkeypatch, load, own, want):
    monkeypatch.delenv(cpu.THREADS_ENV, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(cpu, "cores", lambda: 2)
    monkeypatch.setattr(cpu.os, "getloadavg", lambda: (load, load, load))
    assert cpu.threads(own) == want


def test_an_explicit_count_wins(monkeypatch):
    monkeypatch.setenv(cpu.THREADS_ENV, "3")
    monkeypatch.setattr(cpu.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    assert cpu.threads() == 3


def test_own_load_is_this_processes_cpu_per_second(monkeypatch):
    monkeypatch.setattr(cpu, "_STARTED", (cpu.time.monotonic() - 100.0, cpu.cpu_seconds() - 50.0))
    assert cpu.own_load() == pytest.approx(0.5, abs=0.05)


def test_own_load_counts_the_child_processes_this_command_ran(monkeypatch):
    """The loop's fine-tuning workers are this command's load, not somebody else's: once they have
    finished (and been waited for), the cores they kept busy are not taken from its next generation."""
    import subprocess
    import sys

    monkeypatch.setattr(cpu, "_STARTED", (cpu.time.monotonic() - 10.0, cpu.cpu_seconds()))
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.5: pass"
    subprocess.run([sys.executable, "-c", burn], check=True)
    assert cpu.own_load() >= 0.12  # 1.5 CPU seconds of a child over about 10 s
