"""A writer process for the leaderboard's concurrency test: runs the real run loop with the scripted
backend again and again (a new seed each time, so every run generates and scores anew) for a given
number of seconds, with no pause between runs: the shortest gaps a writer leaves readers. With a stop
file it goes on after that until the file appears (at most MAX_SECONDS in all).

    python leaderboard_writer.py DB SECONDS [STOP_FILE MAX_SECONDS]  ->  prints the number of runs written
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.store import Store  # noqa: E402
from leaderboard_seed import PHI, _run, phi_right  # noqa: E402


def main(db: str, seconds: float, stop: Path | None = None, max_seconds: float = 0.0) -> int:
    store = Store(db)
    start = time.monotonic()
    runs = 0

    def going() -> bool:
        t = time.monotonic() - start
        if t < seconds:
            return True
        return stop is not None and t < max_seconds and not stop.exists()

    while going():
        _run(store, PHI, phi_right, 100 + runs)
        runs += 1
    return runs


if __name__ == "__main__":
    stop_file = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    print(main(sys.argv[1], float(sys.argv[2]), stop_file, float(sys.argv[4]) if len(sys.argv) > 4 else 0.0), flush=True)
