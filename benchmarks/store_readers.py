"""How long a reader waits for the store while a run writes it, and what readers cost the writer.

A writer process runs the real run loop back to back on a store (the scripted backend of the
leaderboard's tests: no engine, so the writer never pauses; the worst case for a reader), and this
process reads it every `--every` seconds the way the leaderboard does (`Store(read_only=True)`, one
query, closed). Printed: the reader's wait per read (median, 90th percentile, maximum) with the
writer running, against the same reads with no writer in the same run; and the writer's runs per
second with and without the reader beside it.

A run holds the file under a lease between its operations; a reader that finds it held asks for it
(`<db>.waiting`) and gets it after the writer's current operation (see `harness.store.store`).

    python benchmarks/store_readers.py [--seconds 20] [--every 0.2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from harness.store import Store  # noqa: E402
from leaderboard_seed import seed_store  # noqa: E402


def reads(db: Path, seconds: float, every: float) -> list[float]:
    waits = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        Store(db, read_only=True, lock_timeout=60).query("SELECT count(*) AS n FROM runs")
        waits.append(time.monotonic() - t)
        time.sleep(every)
    return waits


def writer(db: Path, seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(TESTS / "leaderboard_writer.py"), str(db), str(seconds)],
                            stdout=subprocess.PIPE, text=True)


def line(name: str, waits: list[float]) -> str:
    w = sorted(waits)
    return (f"{name:28s} {len(w):4d} reads   median {statistics.median(w) * 1000:7.1f} ms   "
            f"p90 {w[int(0.9 * (len(w) - 1))] * 1000:7.1f} ms   max {w[-1] * 1000:7.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    ap.add_argument("--every", type=float, default=0.2, help="pause between reads (s)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = seed_store(Path(tmp) / "busy.duckdb")
        alone = reads(db, args.seconds / 2, args.every)
        w = writer(db, args.seconds)
        time.sleep(1.0)  # its imports
        busy = reads(db, args.seconds - 2.0, args.every)
        runs_read = int(w.communicate()[0])
        w = writer(db, args.seconds)
        runs_alone = int(w.communicate()[0])
    print(line("reads, no writer", alone))
    print(line("reads beside the writer", busy))
    print(f"reader's wait, median: {statistics.median(busy) / statistics.median(alone):.1f}x the read alone")
    print(f"writer: {runs_alone / args.seconds:.1f} runs/s alone, {runs_read / args.seconds:.1f} runs/s "
          f"beside the reader ({runs_read / runs_alone:.2f}x)")


if __name__ == "__main__":
    main()
