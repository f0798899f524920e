"""The harness's own seconds per 1,000 samples not overlapped with generation, with an engine that
takes no CPU: what a GPU sees, read on a CPU machine.

A fake backend answers `generate` calls of `--batch` samples, each after `--wait` seconds of sleep
(the engine, elsewhere), with noisy texts like a small random model's (seeded: the same texts every
run). With `--stream` it is one call for everything, handing over `--batch` samples every `--wait`
seconds as vLLM's streaming backend does (the GPU path). The real run loop, store (a fresh DuckDB
file per pass, created before the clock) and grading do the rest. Printed: per pass, (wall time -
time inside the backend) per 1,000 samples, and the harness's CPU seconds per 1,000 samples (the
process's CPU time, every thread, less the fake engine's own text making): on a CPU machine that is
what the harness takes from the engine beside it, and unlike wall time it hardly moves with other
load on the machine. `--profile` prints where that CPU goes (cProfile in every thread).

Without `--stream` every `generate` call is a batch, and the run loop waits at each batch boundary
until the last batch is on disk (a crash loses at most the batch in flight), so one store write per
batch is not overlapped.

    python benchmarks/overlap_fake_engine.py [--items 100] [-k 8] [--batch 32] [--wait 0.25] [--passes 6] [--stream] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import tempfile
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

from harness.data import Source
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.records import Completion
from harness.store import Store
from harness.tasks import get_task

_PIECES = ["the", "answer", "is", "box", "apples", "gives", "has", "=", "+", "*", "$", "\\", "##", "Question",
           "pens", "left", "each", "x", "C", "\n", "\ufffd", "\x0f", "ol", "ep"]


def _text(rng: random.Random) -> str:
    words = [str(rng.choice([rng.randint(0, 9), rng.randint(10, 99), rng.choice([100, 1000])]))
             if rng.random() < 0.15 else rng.choice(_PIECES) for _ in range(rng.randint(30, 50))]
    return " ".join(words)


class FakeEngine:
    """Answers after `wait` seconds per call, using no CPU meanwhile."""

    name = "fake-engine"

    def __init__(self, batch: int, wait: float):
        self.batch_size, self.wait, self.inside, self.cpu = batch, wait, 0.0, 0.0

    def generate(self, requests, params):
        t = time.perf_counter()
        time.sleep(self.wait)
        c = time.thread_time()
        out = [[Completion(_text(random.Random(s)), "length", 64, 120) for s in r.seeds] for r in requests]
        self.cpu += time.thread_time() - c
        self.inside += time.perf_counter() - t
        return out

    def close(self) -> None:
        pass


class StreamingFakeEngine(FakeEngine):
    """One call for every request (as the vllm backend's one batch); `batch` samples finish every
    `wait` seconds, handed over while the rest are "generated"."""

    name = "fake-streaming-engine"

    def __init__(self, batch: int, wait: float):
        super().__init__(1 << 20, wait)
        self.group = batch

    def stream(self, requests, params):
        slots = [(r, j, s) for r, req in enumerate(requests) for j, s in enumerate(req.seeds)]
        for start in range(0, len(slots), self.group):
            t = time.perf_counter()
            time.sleep(self.wait)
            c = time.thread_time()
            done = [(r, j, Completion(_text(random.Random(s)), "length", 64, 120))
                    for r, j, s in slots[start:start + self.group]]
            self.cpu += time.thread_time() - c
            self.inside += time.perf_counter() - t
            yield done


@contextmanager
def _profiled(profiles: list[cProfile.Profile]) -> Iterator[None]:
    """cProfile the main thread and every thread started meanwhile (the store and grading threads)."""
    run_thread = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        prof = cProfile.Profile()
        profiles.append(prof)
        prof.runcall(run_thread, self)

    main_prof = cProfile.Profile()
    profiles.append(main_prof)
    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    main_prof.enable()
    try:
        yield
    finally:
        main_prof.disable()
        threading.Thread.run = run_thread  # type: ignore[method-assign]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("-k", type=int, default=8)
    ap.add_argument("--batch", type=int, default=32, help="samples per generate call")
    ap.add_argument("--wait", type=float, default=0.25, help="seconds the engine takes per call")
    ap.add_argument("--passes", type=int, default=6, help="the first is a warm-up and not counted")
    ap.add_argument("--stream", action="store_true", help="one streamed call, as the vllm backend")
    ap.add_argument("--profile", action="store_true", help="cProfile every thread (all passes); slows the run")
    ap.add_argument("--profile-sort", default="tottime", help="pstats sort key [tottime]")
    args = ap.parse_args()
    task = get_task("arith")
    spec = ModelSpec(name="bench", backend="hf", model="fake-engine")
    source = Source(limit=args.items)
    own, cpu = [], []
    profiles: list[cProfile.Profile] = []
    with tempfile.TemporaryDirectory() as tmp, _profiled(profiles) if args.profile else nullcontext():
        for i in range(args.passes):
            store = Store(Path(tmp) / f"pass{i}.duckdb")
            store.schema_version()
            engine = (StreamingFakeEngine if args.stream else FakeEngine)(args.batch, args.wait)
            c = time.process_time()
            t = time.perf_counter()
            s = run(spec, [task], args.k, store, source, sampling={"temperature": 1.0, "max_tokens": 64},
                    backend_factory=lambda _spec, engine=engine: engine, progress=False)
            thousands = s.tasks[0].generated / 1000
            own.append((time.perf_counter() - t - engine.inside) / thousands)
            cpu.append((time.process_time() - c - engine.cpu) / thousands)
    own, cpu = own[1:], cpu[1:]
    print(f"items {args.items}  k {args.k}  {'streamed group' if args.stream else 'batch'} {args.batch}  "
          f"wait {args.wait} s  passes {len(own)} (+1 warm-up)")
    print(f"not overlapped  {statistics.median(own):.3f} s per 1,000 samples (median)   all: "
          + ", ".join(f"{x:.3f}" for x in own))
    print(f"harness CPU     {statistics.median(cpu):.3f} s per 1,000 samples (median; every thread of the process, "
          "the fake engine's own work taken out)   all: " + ", ".join(f"{x:.3f}" for x in cpu))
    if profiles:
        stats = pstats.Stats(profiles[0])
        for prof in profiles[1:]:
            stats.add(prof)
        stats.sort_stats(args.profile_sort).print_stats(40)


if __name__ == "__main__":
    main()
