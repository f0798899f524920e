"""`harness demo`: the whole data-first loop on the two committed demo models, on the CPU.

Evaluate a small and a large model (k samples per item), compare them, queue the small one's
teachable items with the large one as teacher, export them as SFT data, fine-tune the small model on
the export, and measure the gain on held-out numeric variants of the exported items (made by synth,
never the exported items themselves), next to a control fine-tuned with the same budget on as many
items drawn at random. Everything goes through the same code as the commands (`run`, `compare`,
`teach`, `export-sft`, `sft`, `synth variants`) and lands in one store; a second run reuses it all.
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
from harness.sft_example import SftExample, read_examples

SMALL, LARGE = "demo-small", "demo-large"
SFT, CONTROL = "demo-small-sft", "demo-small-control"
TASK, HELDOUT = "wordmath", "wordmath_variants"
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
    finetuned_from: str | None = None

    def spec(self) -> Any:
        from harness.models import ModelSpec

        return ModelSpec(name=self.name, backend="hf", model=str(self.path), params_b=self.params_b,
                         family="demo", sampling=SAMPLING, options={"batch_size": 128},
                         finetuned_from=self.finetuned_from)

    def toml(self) -> str:
        lines = [f"[models.{self.name}]", 'backend = "hf"', f"model = {json.dumps(str(self.path))}",
                 f"params_b = {self.params_b}", 'family = "demo"']
        if self.finetuned_from:
            lines.append(f'finetuned_from = "{self.finetuned_from}"')
        lines += [f"[models.{self.name}.sampling]", *(f"{k} = {v}" for k, v in SAMPLING.items()),
                  f"[models.{self.name}.options]", "batch_size = 128", ""]
        return "\n".join(lines)


def _stage(n: int, text: str, quiet: bool) -> None:
    if not quiet:
        err.print(f"[bold cyan][{n}/8][/] {text}")


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the store, exports, variants and fine-tuned models")] = Path("harness-demo"),
    db: Annotated[Optional[Path], typer.Option("--db", help="DuckDB results file (default: demo.duckdb in --out)")] = None,
    items: Annotated[int, typer.Option(help="evaluation items (of wordmath's 300)")] = 240,
    k: Annotated[int, typer.Option("-k", help="samples per item (4 here, not the usual 8: the demo keeps to minutes on 2 cores)")] = 4,
    variants: Annotated[int, typer.Option(help="held-out numeric variants per exported item")] = 3,
    sft_steps: Annotated[int, typer.Option(help="optimizer steps of each fine-tuning (the same budget for the control)")] = 400,
    sft_lr: Annotated[float, typer.Option(help="learning rate of each fine-tuning")] = 1e-3,
    augment: Annotated[int, typer.Option(help="verified numeric variants (synth) of each selected item added to its fine-tuning data, never a held-out one (0: the export alone)")] = 8,
    replay: Annotated[int, typer.Option(help="examples of the small model's own training data mixed into each fine-tuning (rehearsal; 0: none)")] = 300,
    seed: Annotated[int, typer.Option(help="seed of the variants, the control's draw and the fine-tuning")] = 0,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """The main job on the embedded default: the data-first loop, end to end, offline, on the CPU.

    Two small Llama models trained by the project (`python -m harness.training.base`) on its own
    arithmetic curriculum: demo-small (2 layers, 0.6M parameters; its data drills every calculation but
    leaves out the word problems of two templates) and demo-large (4 layers, 1.1M). The story is printed
    at the end; --json prints one object (models, compare, teachable, finetune, seconds). Open the
    leaderboard on the result with `harness leaderboard --db harness-demo/demo.duckdb`.
    """
    from harness.analysis.compare import compare
    from harness.analysis.results import load_results
    from harness.analysis.teach import export_random, export_sft, queue_teachable
    from harness.data import Source
    from harness.items_io import write_items
    from harness.pipeline.runner import run as do_run
    from harness.store import Store
    from harness.synth.variants import make_variants
    from harness.tasks import get_task
    from harness.tasks.wordmath import make_items
    from harness.training.sft import SftConfig, finetune

    t0 = time.perf_counter()
    quiet = as_json
    out_dir.mkdir(parents=True, exist_ok=True)
    store = Store(db or out_dir / "demo.duckdb")
    data_dir = out_dir / "data"
    small = _Model(SMALL, demo_model_dir("small"), _params_b(demo_model_dir("small")))
    large = _Model(LARGE, demo_model_dir("large"), _params_b(demo_model_dir("large")))
    models = [small, large]
    models_file = out_dir / "models.toml"

    def write_models() -> None:
        models_file.write_text("\n".join(m.toml() for m in models))

    generated = [0, 0]  # completions generated now, reused from the store

    def evaluate(model: _Model, task: str, source: Source) -> Any:
        summary = do_run(model.spec(), [get_task(task)], k, store, source, progress=progress and not quiet,
                         command="harness demo")
        (ts,) = summary.tasks
        generated[0] += ts.generated
        generated[1] += ts.reused
        return ts

    write_models()
    original = Source.resolve(None, items)
    _stage(1, f"evaluating {SMALL} and {LARGE} on {items} wordmath items, k={k}", quiet)
    evaluate(small, TASK, original)
    evaluate(large, TASK, original)

    _stage(2, "comparing them item by item (paired bootstrap, McNemar)", quiet)
    a, b = load_results(store, LARGE, tasks=[TASK]), load_results(store, SMALL, tasks=[TASK])
    gap = compare(a.outcomes, b.outcomes, a_name=LARGE, b_name=SMALL, seed=seed).overall  # large - small
    assert gap is not None

    _stage(3, f"queueing {SMALL}'s teachable items, {LARGE} as teacher", quiet)
    (report,) = queue_teachable(store, SMALL, teacher=LARGE, tasks=[TASK])

    _stage(4, f"exporting them as SFT data (own correct samples, else the teacher's), with {augment} verified "
              "numeric variants of each (synth)", quiet)
    export = out_dir / "teachable.jsonl"
    n_exported = export_sft(store, SMALL, export, include_exported=True)
    exported_ids = [e.item_id for e in read_examples(export)]
    control = out_dir / "control.jsonl"
    control_ids = export_random(store, SMALL, TASK, n_exported, control, teacher=LARGE, seed=seed)

    by_id = {it.id: it for it in make_items("eval")}
    held, _ = make_variants([by_id[i] for i in exported_ids], variants, seed)
    write_items(data_dir / f"{HELDOUT}.jsonl", held)
    # More of the same lesson: verified numeric variants of each selected item (synth recomputes every
    # step), drawn apart from the held-out ones; the control's items get the same treatment.
    unseen = {it.fields["question"] for it in held} | {it.fields["question"] for it in by_id.values()}
    train_sft = _augment(export, out_dir / "teachable_train.jsonl", by_id, augment, seed + 1000, unseen)
    train_ctrl = _augment(control, out_dir / "control_train.jsonl", by_id, augment, seed + 1000, unseen)

    mix = _write_replay(out_dir / "replay.jsonl", small.path, replay) if replay else None
    _stage(5, f"fine-tuning {SMALL} on the export and its variants ({n_exported} items, {replay} examples of its "
              f"own training data mixed in, {sft_steps} steps), and the control", quiet)
    config = SftConfig(max_steps=sft_steps, batch_size=16, learning_rate=sft_lr, seed=seed)
    sft_info = {}
    for name, data in ((SFT, train_sft), (CONTROL, train_ctrl)):
        dest = out_dir / "models" / name
        sft_info[name] = _finetune_once(finetune, small.path, data, dest, config, mix, progress and not quiet)
        models.append(_Model(name, dest, small.params_b, finetuned_from=SMALL))
    write_models()
    sft_model, control_model = models[2], models[3]

    _stage(6, f"evaluating on {len(held)} held-out variants of the exported items, and {SFT} on the original set", quiet)
    heldout = Source.resolve(data_dir, None)
    for m in (small, sft_model, control_model):
        evaluate(m, HELDOUT, heldout)
    on_original = evaluate(sft_model, TASK, original)  # maj@k as a fraction, and the flagged items

    _stage(7, "measuring the gain, and the control's", quiet)
    before = load_results(store, SMALL, tasks=[HELDOUT])
    gain = compare(load_results(store, SFT, tasks=[HELDOUT]).outcomes, before.outcomes, a_name=SFT, b_name=SMALL, seed=seed).overall
    ctrl = compare(load_results(store, CONTROL, tasks=[HELDOUT]).outcomes, before.outcomes, a_name=CONTROL, b_name=SMALL, seed=seed).overall
    assert gain is not None and ctrl is not None

    result = {
        "models": [{"name": SMALL, "params": round(small.params_b * 1e9), "maj_at_k": gap.b.score},
                   {"name": LARGE, "params": round(large.params_b * 1e9), "maj_at_k": gap.a.score}],
        "compare": {"diff": gap.diff, "ci_low": gap.diff_ci_low, "ci_high": gap.diff_ci_high,
                    "p_value": gap.p_value, "items": gap.n_items},
        "teachable": {"queued": report.own_samples + report.teacher,
                      "own_samples": report.own_samples, "teacher": report.teacher, "exported": n_exported},
        "finetune": {"heldout_items": gain.n_items, "before": gain.b.score, "after": gain.a.score,
                     "diff_ci_low": gain.diff_ci_low, "diff_ci_high": gain.diff_ci_high, "p_value": gain.p_value,
                     "control_after": ctrl.a.score, "control_diff": ctrl.diff, "control_p_value": ctrl.p_value,
                     "control_items": len(control_ids), "steps": sft_steps, "replay": replay, "augment": augment,
                     "train_examples": {n: i.get("examples") for n, i in sft_info.items()},
                     "sft_seconds": {n: i.get("seconds") for n, i in sft_info.items()},
                     "original_after": on_original.maj_at_k, "original_flagged": on_original.possibly_contaminated},
        "k": k, "generated": generated[0], "reused": generated[1], "store": str(store.path), "models_file": str(models_file),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    _stage(8, "the story", quiet)
    if as_json:
        print(json.dumps(result, indent=1))
        return
    _story(result, gap, store.path, models_file)


def _augment(export: Path, dest: Path, by_id: dict, n: int, seed: int, unseen: set[str]) -> Path:
    """`export`'s lines, then up to `n` numeric variants of each line's item as SFT examples (the
    variant's recomputed worked solution in the task's answer format); a variant whose question is
    an evaluation item or a held-out variant is dropped, so no measured item is ever trained on."""
    from harness.synth.variants import make_variants
    from harness.tasks.wordmath import completion_of, render

    rows = read_examples(export)
    lines = [r.line() for r in rows]
    reason = {r.item_id: r.reason for r in rows}
    unseen = set(unseen)
    if n:
        variants, _ = make_variants([by_id[r.item_id] for r in rows], n, seed)
        for v in variants:
            if v.fields["question"] in unseen:
                continue
            unseen.add(v.fields["question"])  # once each, in this file
            prompt = render(v)
            lines.append(SftExample.of(prompt.messages[0].content, prompt.text, " " + completion_of(v.fields["answer"]),
                                       task=TASK, item_id=v.id, gold=v.gold, parent=v.meta["parent"], source="synth",
                                       reason=reason[v.meta["parent"]]).line())
    dest.write_text("".join(lines), encoding="utf-8")
    return dest


def _write_replay(path: Path, model_dir: Path, n: int) -> Path:
    """The first `n` examples of the model's own training data (its recipe in `training.json` says
    which templates it skipped), in the export's line format: the rehearsal mixed into fine-tuning."""
    from harness.training.base import examples

    skip = tuple(json.loads((model_dir / "training.json").read_text()).get("skipped_templates", ()))
    lines = [SftExample.of(p.removesuffix("\nAnswer:"), p, c, source="replay").line()
             for p, c in examples(2 * n + 50, skip=skip)[:n]]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _finetune_once(finetune: Any, base: Path, data: Path, dest: Path, config: Any, mix: Path | None,
                   progress: bool) -> dict:
    """Fine-tune unless `dest` already holds this base, this export, this mix and this recipe."""
    import hashlib
    from dataclasses import asdict

    info_path = dest / "sft.json"
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest() if p is not None else None  # noqa: E731
    if info_path.is_file():
        info = json.loads(info_path.read_text())
        if (info.get("export_sha256") == digest(data) and info.get("mix_sha256") == digest(mix)
                and info.get("config") == asdict(config) and info.get("base") == str(base)):
            return {**info, "seconds": 0.0, "reused": True}
    return finetune(base, data, dest, config, mix=mix, progress=progress)


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


def _story(r: dict, gap: Any, db: Path, models_file: Path) -> None:
    s, l = r["models"]
    f, t = r["finetune"], r["teachable"]
    p = lambda v: f"{v:.2g}" if v >= 1e-3 else f"{v:.1e}"  # noqa: E731
    lines = [
        f"[bold]{s['name']}[/] ({s['params'] / 1e6:.2f}M parameters) scores maj@{r['k']} {_pts(s['maj_at_k'])}; "
        f"[bold]{l['name']}[/] ({l['params'] / 1e6:.2f}M) scores {_pts(l['maj_at_k'])} on {r['compare']['items']} wordmath items.",
        f"The large model leads by {_pts(r['compare']['diff'])} points, 95% CI [{_pts(r['compare']['ci_low'])}, {_pts(r['compare']['ci_high'])}], "
        f"p = {p(r['compare']['p_value'])}.",
        f"{t['queued']} of the small model's items are teachable ({t['own_samples']} where some of its own samples are right, "
        f"{t['teacher']} that the large one solves reliably); {t['exported']} were exported as SFT data.",
        f"Fine-tuned on them and {f['augment']} verified numeric variants of each ({f['steps']} steps, {f['replay']} "
        f"examples of its own training data mixed in), the small model scores {_pts(f['after'])} on {f['heldout_items']} held-out "
        f"variants of those items, against {_pts(f['before'])} before: a gain of {_pts(f['after'] - f['before'])} points, "
        f"95% CI [{_pts(f['diff_ci_low'])}, {_pts(f['diff_ci_high'])}], p = {p(f['p_value'])}.",
        f"The control (the same recipe on {f['control_items']} items drawn at random and their variants) scores {_pts(f['control_after'])}: "
        f"{_pts(f['control_diff'])} points, p = {p(f['control_p_value'])}.",
        f"On the original set the fine-tuned model scores {_pts(f['original_after'])}; its {f['original_flagged']} exported "
        "items carry the contamination flag.",
        f"Took {r['seconds']:.0f} s. Look closer: harness leaderboard --db {db}   ·   "
        f"harness compare {s['name']} vs {l['name']} --db {db} --models {models_file}",
    ]
    for line in lines:
        out.print(line)


def register(app: typer.Typer) -> None:
    app.command()(demo)
