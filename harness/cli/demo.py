"""`harness demo`: `harness loop` on the embedded config, with the two committed demo models, on the CPU.

The loop (`harness.loop.engine`) splits 600 wordmath items into a selection pool and a test pool
that no arm chooses from; evaluates demo-small and demo-large on the selection pool (k samples per
item) and compares them; the `teachable` arm takes the small model's teachable items (the large one
as teacher), the `random` arm as many items drawn at random from the same pool; each arm's export
gets synth-verified numeric variants and the small model's own training data mixed in, and is
fine-tuned at three seeds with one recipe; the base and all six fine-tuned models are scored on the
test pool, item by item. A second run reuses every sample and every fine-tune and adds no run rows.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from harness.cli.common import JsonOpt, ProgressOpt, err, out
from harness.sft_example import SftExample

SMALL, LARGE = "demo-small", "demo-large"
TASK = "wordmath"
LOOP = "sft"  # the loop's name: its models are demo-small-sft-teachable-s0, ...
SAMPLING = {"temperature": 0.8, "max_tokens": 64}


def _params_b(path: Path) -> float:
    """Parameters (billions) as the training script recorded them beside the weights."""
    return json.loads((path / "training.json").read_text())["parameters"] / 1e9


def demo_model_dir(size: str) -> Path:
    """A committed demo model (`small` or `large`), installed with the package."""
    return Path(str(resources.files("harness") / "demo_models" / size))


@dataclass(frozen=True)
class _Model:
    name: str
    path: Path
    params_b: float

    def spec(self) -> Any:
        from harness.models import ModelSpec

        return ModelSpec(name=self.name, backend="hf", model=str(self.path), params_b=self.params_b,
                         family="demo", sampling=SAMPLING, options={"batch_size": 128})




def _stage(n: int, text: str, quiet: bool) -> None:
    if not quiet:
        err.print(f"[bold cyan][{n}][/] {text}", highlight=False)


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the store, exports, fine-tuned models and a models file")] = Path("harness-demo"),
    db: Annotated[Optional[Path], typer.Option("--db", help="DuckDB results file (default: demo.duckdb in --out)")] = None,
    pool: Annotated[int, typer.Option(help="wordmath items generated and split into the selection and the test pool")] = 600,
    test_items: Annotated[int, typer.Option("--test-items", help="items of the test pool (no arm ever chooses, trains on or varies them)")] = 240,
    k: Annotated[int, typer.Option("-k", help="samples per item (4 here, not the usual 8: the demo keeps to minutes on 2 cores)")] = 4,
    seeds: Annotated[int, typer.Option(help="fine-tuning seeds per arm (0, 1, ...)")] = 3,
    sft_steps: Annotated[int, typer.Option(help="optimizer steps of each fine-tuning (the same budget for every arm; the README measures 100 and 400)")] = 100,
    sft_lr: Annotated[float, typer.Option(help="learning rate of each fine-tuning (at 1e-3 the tiny models lose skills they had before they learn the lesson)")] = 3e-4,
    augment: Annotated[int, typer.Option(help="verified numeric variants (synth) of each selected item added to its training data (0, the default: the export "
                                             "alone; variants draw numbers beyond the tiny models' ranges and cost them accuracy, measured in the README)")] = 0,
    replay: Annotated[int, typer.Option(help="examples of the small model's own training data mixed into each fine-tuning (rehearsal; 0: none)")] = 300,
    anchors: Annotated[bool, typer.Option(help="add to each arm's data the small model's own correct answers to the selection-pool items it "
                                              "already solves (self-distillation; the README measures it against forgetting)")] = True,
    seed: Annotated[int, typer.Option(help="seed of the pool split")] = 0,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """The main job on the embedded default: `harness loop` on two small models, offline, on the CPU.

    Two small Llama models trained by the project (`python -m harness.training.base`) on its own
    arithmetic curriculum: demo-small (2 layers, 0.6M parameters; its data drills every calculation but
    leaves out the word problems of two templates) and demo-large (4 layers, 1.1M). The loop selects the
    small model's teachable items (the large one teaches) and, as the control, as many random items from
    the same pool, fine-tunes both arms at several seeds and scores them on a test pool neither chose.
    The story is printed at the end; --json prints one object. Open the leaderboard on the result with
    `harness leaderboard --db harness-demo/demo.duckdb`; the config it runs is `harness loop --example demo`.
    """
    from dataclasses import replace as _replace

    from harness.analysis.compare import ItemOutcome, compare
    from harness.data import Source
    from harness.lineage import read_lineage
    from harness.loop.config import LoopConfig, Phase, Recipe
    from harness.loop.engine import run_loop
    from harness.pipeline.runner import run as do_run
    from harness.store import Store
    from harness.tasks import get_task

    t0 = time.perf_counter()
    quiet = as_json
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    store = Store(db or out_dir / "demo.duckdb")
    small = _Model(SMALL, demo_model_dir("small"), _params_b(demo_model_dir("small")))
    large = _Model(LARGE, demo_model_dir("large"), _params_b(demo_model_dir("large")))
    mix = _write_replay(out_dir / "replay.jsonl", small.path, replay) if replay else None
    cfg = LoopConfig(
        name=LOOP, student=SMALL, teacher=LARGE, out=out_dir, db=store.path, k=k, seeds=tuple(range(seeds)),
        arms=("teachable", "random"),
        phases=(Phase(task=TASK, task_args={"n": pool}, test_size=test_items, split_seed=seed, augment=augment),),
        recipe=Recipe(steps=sft_steps, learning_rate=sft_lr, batch_size=16, mix=mix, anchors=anchors))
    _stage(1, f"harness loop on {pool} wordmath items: {test_items} in a test pool no arm chooses, the rest to select "
              f"from; {SMALL} (student) and {LARGE} (teacher), k={k}; arms teachable and random x {seeds} seeds, "
              f"{sft_steps} steps each, {augment} synth variants per item, {replay} rehearsal examples"
              + (", anchors" if anchors else ""), quiet)
    step = [1]

    def say(text: str) -> None:
        step[0] += 1
        _stage(step[0], text, quiet)

    result = run_loop(cfg, store=store, student=small.spec(), teacher=large.spec(), progress=progress and not quiet,
                      say=say)
    (phase,) = result["phases"]
    (test,) = phase["test_pools"]
    sel = phase["selection"]

    # The large against the small model, on the selection pool both were evaluated on.
    def outcomes(run_id: str) -> dict:
        return {(r["task"], str(r["item_id"])): ItemOutcome.from_row(r) for r in store.item_results(run_id, [TASK])}
    gap = compare(outcomes(sel["teacher_run"]), outcomes(sel["runs"][SMALL]), a_name=LARGE, b_name=SMALL,
                  seed=seed).overall
    assert gap is not None
    pooled = {g["arm"]: g for g in phase["pooled"]}
    versus = phase["teachable_vs_random"][TASK]
    arms = test["arms"]
    first = {a["name"]: a for a in arms if a["seed"] == 0}
    teach_export = Path(first["teachable"]["export"])
    reasons = [json.loads(line).get("reason") for line in teach_export.read_text(encoding="utf-8").splitlines() if line.strip()]

    # The teachable arm's first model on the selection pool: its training items carry the flag there.
    t_model = _replace(small.spec(), name=first["teachable"]["model"],
                       model=str(out_dir / "models" / first["teachable"]["model"]), finetuned_from=SMALL)
    sel_ids = frozenset(str(r["item_id"]) for r in store.item_results(sel["runs"][SMALL], [TASK]))
    on_sel = do_run(t_model, [get_task(TASK).configure({"n": pool})], k, store,
                    _replace(Source.resolve(None, None), items=sel_ids), progress=progress and not quiet,
                    command="harness demo", reuse=True)
    (on_original,) = on_sel.tasks
    flagged = store.contaminated_items(on_sel.run_id, TASK)
    lineage = read_lineage(t_model.model)
    trained = {i for t, i in (lineage.items if lineage else ()) if t == TASK}

    r = {
        "models": [{"name": SMALL, "params": round(small.params_b * 1e9), "maj_at_k": gap.b.estimate},
                   {"name": LARGE, "params": round(large.params_b * 1e9), "maj_at_k": gap.a.estimate}],
        "compare": {"diff": gap.diff, "ci_low": gap.diff_ci_low, "ci_high": gap.diff_ci_high,
                    "p_value": gap.p_value, "items": gap.n_items},
        "teachable": {"queued": sel["teachable"], "own_samples": reasons.count("own_samples"),
                      "teacher": reasons.count("teacher"), "exported": len(reasons)},
        "finetune": {"heldout_items": test["items"], "before": test["base"], "after": pooled["teachable"]["after"],
                     "diff_ci_low": pooled["teachable"]["ci_low"], "diff_ci_high": pooled["teachable"]["ci_high"],
                     "p_value": pooled["teachable"]["p_value"], "control_after": pooled["random"]["after"],
                     "control_diff": pooled["random"]["diff"], "control_p_value": pooled["random"]["p_value"],
                     "control_items": first["random"]["n_train"], "steps": sft_steps, "replay": replay, "anchors": anchors,
                     "augment": augment, "train_examples": {a["model"]: a["examples"] for a in arms},
                     "sft_seconds": {a["model"]: a["sft_seconds"] for a in arms},
                     "original_after": on_original.maj_at_k, "original_flagged": len(flagged),
                     "original_flagged_are_trained": flagged == (trained & sel_ids)},
        "test_pool": {"task": TASK, "items": test["items"], "disjoint": test["disjoint"],
                      "selection_items": sel["items"]},
        "arms": [{"name": a["name"], "seed": a["seed"], "model": a["model"], "items": a["n_train"],
                  "examples": a["examples"], "flagged_on_test_pool": a["flagged"],
                  "test_pool": {"before": a["test_pool"]["before"], "after": a["test_pool"]["after"],
                                "diff": a["test_pool"]["diff"], "ci_low": a["test_pool"]["ci_low"],
                                "ci_high": a["test_pool"]["ci_high"], "p_value": a["test_pool"]["p_value"]}}
                 for a in arms],
        "pooled": [{k_: v for k_, v in g.items()} for g in phase["pooled"]],
        "teachable_vs_random": {"diff": versus["diff"], "ci_low": versus["ci_low"], "ci_high": versus["ci_high"],
                                "p_value": versus["p_value"], "seeds": versus["seeds"],
                                "per_seed": [s["diff"] for s in versus["per_seed"]]},
        "k": k, "generated": result["generated"] + on_original.generated,
        "reused": result["reused"] + on_original.reused, "store": str(store.path),
        "models_file": result["models_file"], "loop_id": result["loop_id"],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if as_json:
        print(json.dumps(r, indent=1))
        return
    _story(r, store.path, Path(result["models_file"]))


def _write_replay(path: Path, model_dir: Path, n: int) -> Path:
    """The first `n` examples of the model's own training data (its recipe in `training.json` says
    which templates it skipped), in the export's line format: the rehearsal mixed into fine-tuning."""
    from harness.training.base import examples

    skip = tuple(json.loads((model_dir / "training.json").read_text()).get("skipped_templates", ()))
    lines = [SftExample.of(p.removesuffix("\nAnswer:"), p, c, source="replay").line()
             for p, c in examples(2 * n + 50, skip=skip)[:n]]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


def _story(r: dict, db: Path, models_file: Path) -> None:
    s, big = r["models"]
    f, t, v, tp = r["finetune"], r["teachable"], r["teachable_vs_random"], r["test_pool"]
    p = lambda x: f"{x:.2g}" if x >= 1e-3 else f"{x:.1e}"  # noqa: E731
    won = v["ci_low"] > 0
    lines = [
        f"[bold]{s['name']}[/] ({s['params'] / 1e6:.2f}M parameters) scores maj@{r['k']} {_pts(s['maj_at_k'])}; "
        f"[bold]{big['name']}[/] ({big['params'] / 1e6:.2f}M) scores {_pts(big['maj_at_k'])} on the {r['compare']['items']} "
        "items of the selection pool.",
        f"The large model leads by {_pts(r['compare']['diff'])} points, 95% CI [{_pts(r['compare']['ci_low'])}, "
        f"{_pts(r['compare']['ci_high'])}], p = {p(r['compare']['p_value'])}.",
        f"{t['queued']} of the small model's items there are teachable ({t['own_samples']} where some of its own samples "
        f"are right, {t['teacher']} that the large one solves reliably); the random arm draws {f['control_items']} items "
        "from the same pool.",
        f"Each arm: its items, {f['augment']} verified numeric variants of each, {f['replay']} examples of the small "
        f"model's own training data"
        + (", its own correct answers to the selection-pool items it already solves" if f.get("anchors") else "")
        + f"; {f['steps']} steps; {v['seeds']} seeds.",
        f"On the test pool ({tp['items']} items no arm chose, checked disjoint from all training data) the base scores "
        f"{_pts(f['before'])}; teachable {_pts(f['after'])} ({_pts(f['after'] - f['before'])} points, 95% CI "
        f"[{_pts(f['diff_ci_low'])}, {_pts(f['diff_ci_high'])}], p = {p(f['p_value'])}); random {_pts(f['control_after'])} "
        f"({_pts(f['control_diff'])} points, p = {p(f['control_p_value'])}).",
        f"[bold]{'Teachable beat random' if won else 'Teachable did not beat random with confidence'}[/]: "
        f"{_pts(v['diff'])} points, 95% CI [{_pts(v['ci_low'])}, {_pts(v['ci_high'])}], p = {p(v['p_value'])}, "
        f"pooled over {v['seeds']} seeds (per seed: {', '.join(_pts(x) for x in v['per_seed'])}).",
        f"On the selection pool the first teachable model scores {_pts(f['original_after'])}; its "
        f"{f['original_flagged']} training items there carry the contamination flag (the base carries none).",
        f"Took {r['seconds']:.0f} s. Look closer: harness leaderboard --db {db}   ·   "
        f"harness compare {s['name']} vs {big['name']} --db {db} --models {models_file}",
    ]
    for line in lines:
        out.print(line, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(demo)
