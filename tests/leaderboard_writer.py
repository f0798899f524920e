"""A writer process for the leaderboard's concurrency test: runs the real run loop with the scripted
backend again and again (a new seed each time, so every run generates and scores anew) for a given
number of seconds, with no pause between runs: the shortest gaps a writer leaves readers.

    python leaderboard_writer.py DB SECONDS  ->  prints the number of runs written
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.store import Store  # noqa: E402
from leaderboard_seed import PHI, _run, phi_right  # noqa: E402


def main(db: str, seconds: float) -> int:
    store = Store(db)
    deadline = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < deadline:
        _run(store, PHI, phi_right, 100 + runs)
        runs += 1
    return runs


if __name__ == "__main__":
    print(main(sys.argv[1], float(sys.argv[2])), flush=True)
