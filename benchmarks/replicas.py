"""Throughput of one model served by 1, 2 and 3 loopback replicas.

Each replica works on at most CAPACITY requests at once and takes DELAY_S per request (a server with
a fixed batch), so one replica's ceiling is CAPACITY / DELAY_S requests per second. The openai
backend spreads the same requests over the replicas (least outstanding requests); the ratio against
one replica, measured in this run, is what counts (goal: at least 2.7x with 3).

    python benchmarks/replicas.py [--requests 600] [--delay 0.1] [--capacity 4]
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from loopback_openai import Behaviour, LoopbackServer  # noqa: E402

from harness.backends.openai import OpenAIBackend  # noqa: E402
from harness.models import ModelSpec  # noqa: E402
from harness.records import Prompt, Request, Sampling, sample_seed  # noqa: E402


def measure(n_replicas: int, n_requests: int, delay_s: float, capacity: int) -> tuple[float, list[int]]:
    with ExitStack() as stack:
        behaviours = [Behaviour(delay_s=delay_s, capacity=capacity) for _ in range(n_replicas)]
        servers = [stack.enter_context(LoopbackServer(b)) for b in behaviours]
        urls = tuple(s.url for s in servers)
        spec = ModelSpec("bench", "openai", "loopback-model", base_url=urls[0], base_urls=urls,
                         options={"max_concurrency": capacity})
        backend = OpenAIBackend(spec)
        reqs = []
        for j in range(n_requests):
            p = Prompt(f"item {j}")
            reqs.append(Request(p, (0,), (sample_seed(0, p.hash, 0),)))
        t0 = time.perf_counter()
        out = backend.generate(reqs, Sampling(max_tokens=16))
        elapsed = time.perf_counter() - t0
        assert len(out) == n_requests and all(len(o) == 1 for o in out)
        return n_requests / elapsed, [b.served for b in behaviours]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--delay", type=float, default=0.1, help="seconds per request on a replica")
    ap.add_argument("--capacity", type=int, default=4, help="requests a replica works on at once")
    a = ap.parse_args()
    ceiling = a.capacity / a.delay
    print(f"{a.requests} requests, {a.delay * 1000:.0f} ms each, {a.capacity} at once per replica "
          f"(one replica's ceiling: {ceiling:.0f} req/s)")
    base = None
    for n in (1, 2, 3):
        rate, served = measure(n, a.requests, a.delay, a.capacity)
        base = base or rate
        print(f"  {n} replica(s): {rate:7.1f} req/s  {rate / base:4.2f}x  served per replica {served}")


if __name__ == "__main__":
    main()
