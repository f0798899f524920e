"""Harness overhead on vLLM: `harness run` against a bare `LLM.generate` on the same prompts and sampling.

One vLLM engine serves both, so start-up is paid once and both see the same engine state; the prefix
cache is reset before every timed pass, and the passes alternate (bare, harness, bare, harness, ...)
so neither gets a warmer machine (in pairs, ABBA: bare then harness, harness then bare, ...; a stream-only pass between them). Each harness pass writes a fresh DuckDB file (created before the
clock starts, as a run appends to a store that exists), so it generates every sample (nothing cached)
and grades, votes and stores them.

    generation ratio = the harness's generation phase (from its first request to the engine until
                       the last sample came back) / bare LLM.generate time
    end-to-end ratio = whole harness run (load items, cache lookup, generate, store, grade, vote) / bare
    stream only      = the harness backend's `stream` alone (how the harness feeds the engine and reads
                       it back, with nothing stored or graded) / bare: what of the generation ratio
                       is the way requests reach the engine rather than work beside it
    not overlapped   = (end to end - generation phase) per 1,000 samples: the harness's own work that
                       did not run beside the engine (what it adds on a GPU, where the engine is fast)
    harness CPU      = this process's CPU time (every thread) in a harness pass less in the bare pass
                       beside it, per 1,000 samples: what the harness takes from the engine on a CPU
                       machine; it hardly moves with other load, unlike the wall-clock ratios
    CPU by part      = the same difference split by thread (main, store, grading, lease watcher, vLLM's
                       own threads in this process) and by process (the math grader's workers, vLLM's
                       engine core and workers): where the harness's CPU goes, and whether the engine
                       got less of it

The harness stores finished samples (a store thread) and grades them (a grading thread) while the
engine generates, so on a GPU the last figure is what it costs. On a CPU the engine and the harness share the cores, so work
done beside the engine still slows it a little (it shows in the generation ratio).
The ratios are printed twice: the fastest harness pass over the fastest bare pass, and the median
over pairs of each harness pass over the bare pass beside it (steadier when the machine's speed
drifts; on this 2-core machine the bare passes alone spread 3-18%).
Targets: generation within 2% of bare vLLM, end to end within 3%, at most 0.25 s per 1,000 samples
not overlapped. The model is the tiny random Llama unless --model DIR.

    python benchmarks/vllm_overhead.py [--items 100] [-k 8] [--max-tokens 64] [--passes 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, help="model folder [default: the tiny random model, built here]")
    ap.add_argument("--task", default="arith", help="harness task whose prompts are used [arith: embedded]")
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("-k", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--passes", type=int, default=2, help="timed passes of each (the minimum is reported)")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--max-model-len", type=int, default=2048)
    ap.add_argument("--no-enforce-eager", action="store_true", help="let vLLM compile (GPU: CUDA graphs)")
    args = ap.parse_args()
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")

    from harness.backends.vllm import VLLMBackend
    from harness.data import Source
    from harness.models import ModelSpec
    from harness.records import Sampling
    from harness.pipeline.runner import run
    from harness.store import Store
    from harness.tasks import get_task
    from harness.training.tiny import build_tiny_model

    model = args.model or build_tiny_model(Path(tempfile.gettempdir()) / "harness-bench-tiny")
    options = {"dtype": args.dtype, "max_model_len": args.max_model_len, "enforce_eager": not args.no_enforce_eager}
    spec = ModelSpec(name="bench", backend="vllm", model=str(model), options=options)
    sampling = {"temperature": args.temperature, "max_tokens": args.max_tokens, "top_p": 1.0}
    task = get_task(args.task)
    source = Source.resolve(args.data_dir, args.items)

    backend = VLLMBackend(spec)
    t0 = time.perf_counter()
    backend._start(run_seed=0)
    startup = time.perf_counter() - t0
    llm = backend._llm
    from vllm import SamplingParams

    # The exact prompts the harness sends: its rendering, its tokenization (chat template included).
    items = task.load(source)
    prompts = [task.render(it) for it in items]
    token_ids = [backend.token_ids(p) for p in prompts]
    params = Sampling(**{**Sampling().to_json(), **sampling, "stop": tuple(task.sampling.get("stop", ()))})
    bare_sp = SamplingParams(n=args.k, temperature=params.temperature, top_p=params.top_p,
                             max_tokens=params.max_tokens, stop=list(params.stop) or None)
    llm.generate([{"prompt_token_ids": t} for t in token_ids[:4]], bare_sp, use_tqdm=False)  # warm-up

    class Timed:
        """The harness backend, timing its generation phase: from each call's first request to the
        engine until its last sample came back."""

        def __init__(self) -> None:
            self.name, self.batch_size, self.seconds = backend.name, backend.batch_size, 0.0

        def generate(self, requests, p):
            t = time.perf_counter()
            out = backend.generate(requests, p)
            self.seconds += time.perf_counter() - t
            return out

        def stream(self, requests, p):
            t = time.perf_counter()
            try:
                yield from backend.stream(requests, p)
            finally:
                self.seconds += time.perf_counter() - t

        def close(self) -> None:  # the engine outlives each pass
            pass

    bare, gen, total, streamed, tokens = [], [], [], [], 0
    bare_cpu, harness_cpu = [], []  # this process's CPU seconds (every thread) per pass
    bare_parts: list[dict[str, float]] = []  # CPU seconds per thread name and child process, per pass
    harness_parts: list[dict[str, float]] = []

    def bare_pass() -> None:
        nonlocal tokens
        llm.reset_prefix_cache()
        parts = _Parts()
        t = time.perf_counter()
        outs = llm.generate([{"prompt_token_ids": ids} for ids in token_ids], bare_sp, use_tqdm=False)
        bare.append(time.perf_counter() - t)
        cpu, by_part = parts.done()
        bare_cpu.append(cpu)
        bare_parts.append(by_part)
        tokens = sum(len(c.token_ids) for o in outs for c in o.outputs)

    from harness.records import Request, sample_seed

    stream_requests = [Request(p, tuple(range(args.k)), tuple(sample_seed(0, p.hash, i) for i in range(args.k)))
                       for p in prompts]

    def stream_pass() -> None:
        """The harness's way to the engine alone: its backend's stream (prompts tokenized and added a
        group at a time, samples read back as requests finish), nothing stored or graded."""
        llm.reset_prefix_cache()
        t = time.perf_counter()
        n = sum(len(done) for done in backend.stream(stream_requests, params))
        streamed.append(time.perf_counter() - t)
        assert n == len(items) * args.k

    def harness_pass(i: int) -> None:
        llm.reset_prefix_cache()
        timed = Timed()
        store = Store(Path(tmp) / f"pass{i}.duckdb")
        store.schema_version()  # the file is created before the clock starts: runs append to a store
        parts = _Parts()
        t = time.perf_counter()
        summary = run(spec, [task], args.k, store, source, sampling=sampling,
                      backend_factory=lambda _spec: timed, progress=False)
        total.append(time.perf_counter() - t)
        cpu, by_part = parts.done()
        harness_cpu.append(cpu)
        harness_parts.append(by_part)
        gen.append(timed.seconds)
        assert summary.tasks[0].generated == len(items) * args.k

    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.passes):  # pairs in ABBA order: a drift of the machine's speed cancels out
            if i % 2 == 0:
                bare_pass()
                stream_pass()
                harness_pass(i)
            else:
                harness_pass(i)
                stream_pass()
                bare_pass()
    backend.close()

    b, g, e = min(bare), min(gen), min(total)
    samples = len(items) * args.k
    own = [(t - x) / samples * 1000 for t, x in zip(total, gen)]  # per pass: not overlapped, per 1,000 samples
    print(f"model {model}  task {args.task}  items {len(items)}  k {args.k}  max_tokens {args.max_tokens}  "
          f"passes {args.passes}  engine start {startup:.1f} s")
    print(f"bare LLM.generate        {b:8.2f} s   ({tokens / b:,.0f} generated tokens/s)   all: "
          + ", ".join(f"{x:.2f}" for x in bare))
    print(f"harness generation phase {g:8.2f} s   all: " + ", ".join(f"{x:.2f}" for x in gen))
    print(f"harness run, end to end  {e:8.2f} s   all: " + ", ".join(f"{x:.2f}" for x in total))
    print(f"backend stream only      {min(streamed):8.2f} s   all: " + ", ".join(f"{x:.2f}" for x in streamed)
          + "   (the harness's requests to the engine, nothing stored or graded)")
    print(f"not overlapped           {statistics.median(own):8.3f} s per 1,000 samples (median; target <= 0.25)   all: "
          + ", ".join(f"{x:.3f}" for x in own))
    # The harness's own CPU: this process's CPU time over a harness pass less over the bare pass beside
    # it (both drive the same engine; the engine core's process is not counted in either). On a CPU
    # machine this is what the harness takes from the engine; unlike the ratios it hardly moves with
    # other load on the machine.
    cpu = [(h - x) / samples * 1000 for h, x in zip(harness_cpu, bare_cpu)]
    print(f"harness CPU              {statistics.median(cpu):8.3f} s per 1,000 samples (median; main process, harness "
          "pass less bare pass)   all: " + ", ".join(f"{x:.3f}" for x in cpu))
    print("CPU by part, harness pass less bare pass, s per 1,000 samples (median over pairs):")
    for name in sorted({n for p in bare_parts + harness_parts for n in p}):
        diffs = [(h.get(name, 0.0) - x.get(name, 0.0)) / samples * 1000 for h, x in zip(harness_parts, bare_parts)]
        in_bare = statistics.median(x.get(name, 0.0) / samples * 1000 for x in bare_parts)
        print(f"  {name:30s}{statistics.median(diffs):+8.3f}   (bare pass: {in_bare:.3f})")
    print(f"main process in bare     {statistics.median(c / w for c, w in zip(bare_cpu, bare)):8.2f} CPU s per s "
          "(vLLM's front end: output processing, detokenizing)")
    print(f"ratio generation / bare  {g / b:8.3f}   (minimum over minimum; target <= 1.02)")
    print(f"ratio end-to-end / bare  {e / b:8.3f}   (target <= 1.03)")
    if len(bare) > 1:
        # Each harness pass against the bare pass of its pair (run just before or after it).
        pg = sorted(x / y for x, y in zip(gen, bare))
        pe = sorted(x / y for x, y in zip(total, bare))
        ps = sorted(x / y for x, y in zip(streamed, bare))
        for name, ratios in (("generation", pg), ("end-to-end", pe), ("stream only", ps)):
            low, high = _median_interval(ratios)
            label = f"paired {name} / bare"
            print(f"{label:25s}{statistics.median(ratios):8.3f}   (median of {len(ratios)} pairs, "
                  f"90% bootstrap interval [{low:.3f}, {high:.3f}]; all: " + ", ".join(f"{x:.3f}" for x in ratios) + ")")
        print(f"spread of bare passes    {statistics.pstdev(bare) / statistics.mean(bare):8.1%} (machine noise)")


class _Parts:
    """CPU seconds per part over one pass: this process's threads by name (every thread started during
    the pass, measured as it ends; the main thread; the rest of the process as "other threads"), the
    math grader's worker processes, and each child process (vLLM's engine core and its workers)."""

    _ended: dict[str, float] = {}
    _patched = False

    def __init__(self) -> None:
        import threading

        import psutil

        if not _Parts._patched:  # every thread started from here on adds its CPU time as it ends
            run_thread = threading.Thread.run

            def run(thread: threading.Thread) -> None:
                try:
                    run_thread(thread)
                finally:
                    name = thread.name.split(" ")[0].rstrip("0123456789-_")
                    _Parts._ended[name] = _Parts._ended.get(name, 0.0) + time.thread_time()

            threading.Thread.run = run  # type: ignore[method-assign]
            _Parts._patched = True
        self.me = psutil.Process()
        self.start = self._now()

    def _now(self) -> tuple[dict[str, float], dict[int, tuple[str, float]]]:
        from harness.grading.math.pool import WorkerPool

        now = dict(_Parts._ended)
        now["main thread"] = time.thread_time()
        now["math grader workers"] = WorkerPool.retired_cpu_s
        now["this process"] = time.process_time()
        procs = {}
        for child in self.me.children(recursive=True):
            try:
                times = child.cpu_times()
                procs[child.pid] = (child.name(), times.user + times.system)
            except Exception:  # gone meanwhile
                pass
        return now, procs

    def done(self) -> tuple[float, dict[str, float]]:
        """This process's CPU seconds over the pass (every thread), and the CPU seconds per part."""
        import threading

        for t in threading.enumerate():  # the math pool is closed in a thread of its own
            if t.name.startswith("harness-graders-close"):
                t.join()
        (start, start_procs), (end, end_procs) = self.start, self._now()
        out = {k: end.get(k, 0.0) - start.get(k, 0.0) for k in end.keys() | start.keys()}
        threads = sum(v for k, v in out.items() if not k.startswith(("math ", "this ")))
        process = out.pop("this process")
        out["other threads"] = process - threads
        for pid, (name, cpu) in end_procs.items():  # e.g. the math pool's forkserver, when it starts
            key = f"process {name}" if pid in start_procs else "processes started in the pass"
            out[key] = out.get(key, 0.0) + cpu - start_procs.get(pid, ("", 0.0))[1]
        return process, out


def _median_interval(values: list[float], draws: int = 2000) -> tuple[float, float]:
    """A 90% bootstrap interval of the median (seeded: the same values give the same interval)."""
    import random

    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(draws))
    return medians[int(0.05 * draws)], medians[int(0.95 * draws) - 1]


if __name__ == "__main__":  # vLLM starts its engine core in a spawned process
    main()
