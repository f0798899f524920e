"""Render every leaderboard page against a store of about 1 million generations (10 million with
`--items 52500`) and print each page's time.

    python benchmarks/leaderboard_pages.py [--db PATH] [--rebuild] [--items N] [--repeat R] [--pages a,b]

The store is synthetic but made through `harness.store.Store` (Arrow inserts), so it has the real
schema: 4 models (phi 14.7B and 70b 70.6B with two nights each, 8b and 1.5b with one), 4 tasks of
`--items` items (default 5,250), k = 8, every sample with a raw text, extracted and canonical answer
and verdict, and per-item and per-task results as the run loop stores them: 6 runs x 4 tasks x
5,250 items x 8 samples = 1,008,000 generations. It is built once and reused (--rebuild remakes it).

Each page is rendered with Streamlit's AppTest: "cold" right after the store file's modification
time is bumped, so every cached query and table misses (what the first visitor after a store change
waits for), then "warm" (the same page again, served from the caches). "cold CPU" is the CPU time
the process spent on the cold render (all its threads): on a machine shared with other jobs the wall
time stretches with the load, the CPU time much less; the load average is printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.records import Completion, Item, Prompt  # noqa: E402
from harness.store import (ItemResultRow, ModelRow, RunRow, ScoreRow, Store, TaskResultRow, new_run_id,  # noqa: E402
                           now)

MODELS = [("phi", 14.7, "phi", 0.62, 2), ("70b", 70.6, "llama", 0.78, 2), ("8b", 8.0, "llama", 0.5, 1),
          ("1.5b", 1.5, "qwen", 0.3, 1)]  # name, params (B), family, skill, nights
TASKS = ["arith", "gsm8k", "math500", "mmlu_sci"]
K = 8
WRONG = 3  # wrong answer classes per item


def build(db: Path, n_items: int) -> int:
    """Write the synthetic store; returns the number of generations."""
    store = Store(db)
    rng = np.random.default_rng(0)
    items: dict[str, list[tuple[Item, tuple[Prompt]]]] = {}
    difficulty: dict[str, np.ndarray] = {}
    for task in TASKS:
        rows = []
        for i in range(n_items):
            it = Item(id=str(i), gold=str(i % 997), fields={"question": f"{task} question {i}: what is {i} mod 997?"})
            rows.append((it, (Prompt(f"Solve step by step.\n\nQuestion: {it.fields['question']}\nAnswer:"),)))
        store.put_items(task, 1, rows)
        items[task] = rows
        difficulty[task] = rng.normal(0, 1.2, n_items)
    total = 0
    for night in range(2):
        for name, params, family, skill, nights in MODELS:
            if night >= nights:
                continue
            model_id = f"bench-{name}"
            store.upsert_model(ModelRow(model_id=model_id, name=name, backend="vllm", path=f"org/{name}",
                                        params_b=params, family=family, spec=json.dumps({"name": name})))
            run_id = store.start_run(RunRow(run_id=new_run_id(), model_id=model_id, model_name=name, started_at=now(),
                                            k=K, sampling=json.dumps({"seed": night}), tasks=json.dumps(TASKS),
                                            command="benchmark", harness_version="bench"))
            for task in TASKS:
                total += _task(store, rng, run_id, model_id, task, items[task], difficulty[task],
                               skill + 0.04 * night, f"night{night}")
            store.finish_run(run_id, "done")
            print(f"  {name} night {night + 1}: {total:,} generations so far", flush=True)
    return total


def _task(store: Store, rng: np.random.Generator, run_id: str, model_id: str, task: str, rows, diff, skill,
          sampling_key: str) -> int:
    n = len(rows)
    p = 1 / (1 + np.exp(-(np.log(skill / (1 - skill)) - diff)))  # per-item chance a sample is right
    right = rng.random((n, K)) < p[:, None]
    wrong_cls = rng.integers(1, WRONG + 1, (n, K))
    cls = np.where(right, 0, wrong_cls)
    gold = np.array([int(it.gold) for it, _ in rows])
    answers = np.where(cls == 0, gold[:, None], gold[:, None] + cls * 7)
    unparseable = rng.random((n, K)) < 0.02
    gens = []
    for i, (_, (prompt,)) in enumerate(rows):
        for s in range(K):
            text = ("I could not finish" if unparseable[i, s]
                    else f"Let me work through it step by step. So the final answer is {answers[i, s]}.")
            gens.append((prompt.hash, s, s, Completion(text, "stop", 18)))
    keys = store.put_generations(run_id, model_id, sampling_key, gens)

    counts = np.stack([((cls == c) & ~unparseable).sum(axis=1) for c in range(WRONG + 1)], axis=1)
    winner = counts.argmax(axis=1)
    top = counts.max(axis=1)
    runner_up = np.sort(counts, axis=1)[:, -2]
    n_correct = ((cls == 0) & ~unparseable).sum(axis=1)
    n_unp = unparseable.sum(axis=1)
    flat_ans = answers.reshape(-1).astype(str)
    verdict = np.where(unparseable, "unparseable", np.where(cls == 0, "correct", "incorrect")).reshape(-1)
    ids = [it.id for it, _ in rows]
    ext = np.where(unparseable.reshape(-1), None, flat_ans).tolist()
    cls_flat = np.where(unparseable, None, cls).reshape(-1).tolist()
    item_col = np.repeat(ids, K).tolist()
    sample_col = np.tile(np.arange(K), n).tolist()
    scores = [ScoreRow(run_id=run_id, task=task, item_id=item_col[j], sample_index=int(sample_col[j]), gen_key=keys[j],
                       extracted=ext[j], canonical=ext[j], verdict=str(verdict[j]),
                       cls=None if cls_flat[j] is None else int(cls_flat[j]), detail=None) for j in range(n * K)]
    has_vote = top > 0
    maj_answer = np.where(has_vote, (gold + winner * 7).astype(str), None)
    maj_ok = (has_vote & (winner == 0)).tolist()
    item_rows = [ItemResultRow(run_id=run_id, task=task, task_version=1, item_id=ids[j], gold=rows[j][0].gold, n=K,
                               n_correct=int(n_correct[j]), n_unparseable=int(n_unp[j]), n_timeout=0,
                               maj_answer=maj_answer[j], maj_correct=bool(maj_ok[j]), vote_share=float(top[j] / K),
                               margin=float((top[j] - runner_up[j]) / K), n_classes=int((counts[j] > 0).sum()),
                               pass_at_1=float(n_correct[j] / K), pass_at_k=float(n_correct[j] > 0),
                               maj_at_k=float(maj_ok[j])) for j in range(n)]
    summary = TaskResultRow(run_id=run_id, task=task, task_version=1, n_items=n, k=K, generated=n * K, reused=0,
                            maj_at_k=float(np.mean(maj_ok)), pass_at_1=float((n_correct / K).mean()),
                            pass_at_k=float((n_correct > 0).mean()), n_timeout=0, n_unparseable=int(n_unp.sum()),
                            finished_at=now(), possibly_contaminated=0, n=K)
    store.put_results(scores, item_rows, summary)
    return n * K


def _store_changed(db: Path) -> None:
    """Bump the file's modification time: to the app the store changed, so every cache misses."""
    t = time.time_ns()
    os.utime(db, ns=(t, t))


def render(db: Path, repeat: int, only: set[str] = frozenset()) -> list[tuple[str, float, float, float]]:
    from streamlit.testing.v1 import AppTest

    from harness.leaderboard import APP_PATH, PAGES

    os.environ["HARNESS_DB"] = str(db)
    results = []
    for script, _, _, _ in PAGES:  # every page, from the app's own list (views/*.py)
        page = Path(script).stem
        if only and page not in only:
            continue
        cold, cold_cpu, warm = [], [], []
        for _ in range(repeat):
            at = AppTest.from_file(str(APP_PATH), default_timeout=600)
            at.run()  # the default page; then the page under test, timed
            at.switch_page(script)
            _store_changed(db)
            t, c = time.perf_counter(), time.process_time()
            at.run()
            cold.append(time.perf_counter() - t)
            cold_cpu.append(time.process_time() - c)
            if at.exception:
                raise SystemExit(f"{page}: {at.exception[0].message}")
            t = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t)
        results.append((page, min(cold), min(cold_cpu), min(warm)))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "leaderboard-bench.duckdb")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--items", type=int, default=5250, help="items per task")
    ap.add_argument("--repeat", type=int, default=1, help="renders per page; the fastest is reported")
    ap.add_argument("--pages", default="", help="comma-separated page names (views/NAME.py); default every page")
    ap.add_argument("--build-only", action="store_true", help="build (or migrate) the store and stop")
    args = ap.parse_args()
    if args.rebuild and args.db.exists():
        args.db.unlink()
    if not args.db.exists():
        print(f"building {args.db} ...", flush=True)
        t = time.perf_counter()
        n = build(args.db, args.items)
        print(f"built: {n:,} generations in {time.perf_counter() - t:.1f} s, "
              f"{args.db.stat().st_size / 2**20:.0f} MiB", flush=True)
    Store(args.db).schema_version()  # a store built by an older harness gets the newer migrations
    n = Store(args.db, read_only=True).query("SELECT count(*) AS n FROM generations")[0]["n"]
    print(f"store {args.db}: {n:,} generations")
    if args.build_only:
        return
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"{'page':10} {'cold (s)':>9} {'cold CPU (s)':>13} {'warm (s)':>9}")
    for page, cold, cpu, warm in render(args.db, args.repeat, {p for p in args.pages.split(",") if p}):
        print(f"{page:10} {cold:9.2f} {cpu:13.2f} {warm:9.2f}", flush=True)


if __name__ == "__main__":
    main()
