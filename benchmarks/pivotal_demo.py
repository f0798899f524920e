"""Pivotal tokens on the demo store, end to end, with the numbers issue 24 asks for.

On a store made by `harness demo --out DIR` (the items: demo-small's training queue, else the searched
run's teachable items):

1. `harness pivotal --model demo-small --task wordmath` on a copy of the store (the demo's own is left
   as it was): the time, pivotal tokens found, rollouts and tokens generated, rollouts per token;
2. each stored pivotal token's delta p re-estimated with fresh rollouts at another seed
   (`--recheck-seed`): the share that keeps its sign (target: at least 80%);
3. `harness export-dpo`: the pairs, each checked: its prompt is the item's prompt plus a prefix of a
   stored sample, and its chosen and rejected tokens differ;
4. `harness dpo` on the pairs, then `harness run` of the result on the first items: it loads and runs.

    python benchmarks/pivotal_demo.py --demo DIR [--run RUN] [--rollouts 16] [--seed 0] [--recheck-seed 1]

Prints one JSON object. Use `nice -n 10` and OMP_NUM_THREADS=1 on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def harness(*args: str) -> tuple[str, float]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"harness {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo", type=Path, required=True, help="the folder `harness demo --out` wrote")
    ap.add_argument("--run", help="the run of demo-small to search (default: its latest on wordmath)")
    ap.add_argument("--task-arg", "-T", action="append", default=[], help="wordmath's options (the loop's demo: n=600)")
    ap.add_argument("--rollouts", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0, help="seed of the search's rollouts")
    ap.add_argument("--recheck-seed", type=int, default=1)
    ap.add_argument("--dpo-steps", type=int, default=30)
    ap.add_argument("--run-items", type=int, default=20)
    args = ap.parse_args()

    from harness.models import resolve
    from harness.store import Store

    work = Path(tempfile.mkdtemp(prefix="pivotal-bench-"))
    db = work / "demo.duckdb"
    shutil.copy(args.demo / "demo.duckdb", db)
    models = str(args.demo / "models.toml")
    common = ["--model", "demo-small", "--models", models, "--db", str(db)]
    out, search_s = harness("pivotal", *common, "--task", "wordmath", *(["--run", args.run] if args.run else []),
                            *[x for t in args.task_arg for x in ("-T", t)],
                            "--rollouts", str(args.rollouts),
                            "--seed", str(args.seed), "--recheck-seed", str(args.recheck_seed), "--json", "--no-progress")
    found = json.loads(out)
    pairs = work / "pairs.jsonl"
    _, export_s = harness("export-dpo", *common, "--out", str(pairs))
    lines = [json.loads(x) for x in pairs.read_text().splitlines()]
    store = Store(db, read_only=True)
    texts = {(str(r["item_id"]), r["sample"]): r["text"] for r in store.run_samples(found["source_run_id"], "wordmath")}
    prompts = store.item_prompts("wordmath", sorted({x["item_id"] for x in lines}))
    good = [x for x in lines
            if x["prompt"] == prompts[x["item_id"]][x["sample"] % len(prompts[x["item_id"]])].text + x["prefix"]
            and texts[(x["item_id"], x["sample"])].startswith(x["prefix"]) and x["chosen"] != x["rejected"]]
    spec_dir = resolve("demo-small", models).model
    tuned = work / "demo-small-dpo"
    out, dpo_s = harness("dpo", "--model-dir", spec_dir, "--data", str(pairs), "--out", str(tuned), "--max-steps",
                         str(args.dpo_steps), "--json", "--no-progress")
    trained = json.loads(out)
    out, run_s = harness("run", "--model", f"hf:{tuned}", "--task", "wordmath", "-k", "4", "--limit", str(args.run_items),
                         "--temperature", "0.8", "--max-tokens", "64", "--db", str(work / "run.duckdb"), "--json",
                         "--no-progress")
    ran = json.loads(out)["tasks"][0]
    recheck = found["recheck"] or {}
    print(json.dumps({
        "search": {k: found[k] for k in ("items", "in_band", "samples", "pivotal", "rollouts", "generated",
                                         "tokens_generated", "rollouts_per_pivotal", "seconds", "budget_hit")},
        "search_wall_s": round(search_s, 1),
        "recheck": {**recheck, "share": None if not recheck.get("n") else round(recheck["agree"] / recheck["n"], 3)},
        "pairs": len(lines), "pairs_checked": len(good), "export_wall_s": round(export_s, 1),
        "dpo": {k: trained[k] for k in ("steps", "first_loss", "last_loss", "first_margin", "last_margin", "seconds")},
        "dpo_wall_s": round(dpo_s, 1),
        "run_of_result": {"items": ran["n_items"], "maj_at_k": ran["maj_at_k"], "pass_at_1": ran["pass_at_1"],
                          "wall_s": round(run_s, 1)},
        "work": str(work),
    }, indent=1))


if __name__ == "__main__":
    main()
