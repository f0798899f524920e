"""Throughput of HumanEval's canonical solutions: the sandbox against a plain subprocess per sample.

Both run the same 164 programs (prompt + canonical solution + tests + `check(entry_point)`) on the
same number of threads (default: all cores), alternating rounds in one run so load drift hits both
alike. The baseline is a bare `python -S -c PROGRAM` per sample (no isolation at all, no `site`); a
second one is what most harnesses do, `python -c PROGRAM`. The sandbox runs with every layer this
machine grants (printed first): its zygote forks each program into fresh namespaces. Prints
samples/s for each, the ratio against the bare `python -S` baseline, and the machine's load.

    python benchmarks/sandbox_throughput.py [--data-dir ../shared/data] [--rounds 2] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.data import Source
from harness.sandbox import Job, Limits, Sandbox, probe
from harness.tasks import get_task


def baseline(programs: list[str], workers: int, flags: tuple[str, ...] = ()) -> tuple[float, int]:
    def one(program: str) -> bool:
        try:
            res = subprocess.run([sys.executable, *flags, "-c", program], capture_output=True, timeout=10,
                                 stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return False
        return res.returncode == 0

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        ok = sum(pool.map(one, programs))
    return len(programs) / (time.perf_counter() - start), ok


def sandboxed(sandbox: Sandbox, jobs: list[Job]) -> tuple[float, int]:
    start = time.perf_counter()
    outcomes = sandbox.run_many(jobs)
    return len(jobs) / (time.perf_counter() - start), sum(o.passed for o in outcomes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_dir = os.environ.get("HARNESS_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--data-dir", default=default_dir)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    items = get_task("humaneval").load(Source.resolve(args.data_dir))
    programs = [it.gold + "\n\n" + it.fields["tests"] for it in items]
    jobs = [Job(it.gold, it.fields["tests"]) for it in items]
    iso = probe()
    print(f"{len(items)} HumanEval canonical solutions, {args.workers} workers, {args.rounds} rounds; "
          f"sandbox: namespaces {'+'.join(iso.namespaces) or 'none'}, private /tmp {iso.private_tmp}, "
          f"seccomp {iso.seccomp}, drop to own uid {iso.drop_privileges}"
          + (f"; missing: {'; '.join(iso.notes)}" if iso.notes else "; nothing missing"))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    rates: dict[str, list[float]] = {"baseline -S": [], "baseline": [], "sandbox": []}
    with Sandbox(Limits(timeout_s=10.0), workers=args.workers) as sandbox:
        sandboxed(sandbox, jobs[:8])  # warm the page cache for both
        for r in range(args.rounds):
            for name in rates:
                if name == "sandbox":
                    rate, ok = sandboxed(sandbox, jobs)
                else:
                    rate, ok = baseline(programs, args.workers, ("-S",) if name.endswith("-S") else ())
                rates[name].append(rate)
                print(f"round {r + 1}: {name:12s} {rate:7.1f} samples/s ({ok}/{len(programs)} passed)"
                      + (f", {rate / rates['baseline -S'][-1]:.2f}x bare python -S" if name == "sandbox" else ""))
    med = {name: statistics.median(v) for name, v in rates.items()}
    print("median: " + ", ".join(f"{name} {v:.1f}/s" for name, v in med.items()))
    print(f"ratio sandbox / bare python -S: {med['sandbox'] / med['baseline -S']:.2f} "
          f"(sandbox / python: {med['sandbox'] / med['baseline']:.2f})")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")

if __name__ == "__main__":
    main()
