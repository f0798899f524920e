"""The data-first loop, end to end: pools -> selection -> arms x seeds -> fine-tuning -> the same
test pools for the base and every arm -> paired verdicts, with lineage in the store.

Per phase (each phase starts every arm and seed from the model that arm and seed ended the previous
phase with; the first from the student):
  1. the pools are fixed first: the test pools of *every* phase before anything is selected;
  2. the start model(s) and the teacher are evaluated on the selection pool (k samples per item);
  3. each arm picks its items (`arms.select`); its export holds, per item, the model's own shortest
     correct sample, else the teacher's, else the task's reference solution; `augment` adds
     synth-verified numeric variants of each picked item (never a question of any pool);
  4. each (arm, seed) is fine-tuned with the same recipe (`harness sft`; the model's lineage goes
     beside its weights and into the store); no training file may name a test item (checked);
  5. the base and every arm are evaluated on every phase's test pool, and compared item by item.
Every stage is cached: evaluations are runs (reused whole when identical: no new run rows), a
fine-tune is skipped when its folder holds the same base, data, mix and recipe.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from harness.analysis.teach import export_items, solved
from harness.data import Source
from harness.backend_kinds import KINDS
from harness.errors import HarnessError
from harness.items_io import write_atomic
from harness.lineage import read_lineage
from harness.loop.arms import Arm, item_order, select
from harness.loop.config import LoopConfig, Phase
from harness.loop.measure import per_seed, pooled
from harness.loop.pools import Pools, check_disjoint, make_pools
from harness.models import ModelSpec, load_models, resolve, to_toml
from harness.pipeline.runner import run as do_run
from harness.records import Item, stable_hash
from harness.store import LoopArmRow, Store, now
from harness.task import Task

Say = Callable[[str], None]


def local_student(spec: ModelSpec) -> ModelSpec:
    folder = spec.local_weights()
    if folder is None:
        loads = ", ".join(k.name for k in KINDS.values() if k.weights != "server")
        raise HarnessError(f"the loop fine-tunes the student's weights: {spec.name!r} must be a local model folder "
                           f"with a backend that loads one ({loads}; got backend {spec.backend}, model {spec.model!r})")
    return replace(spec, model=str(folder))


def finetune_once(base: Path, data: Path, dest: Path, recipe: Any, seed: int, progress: bool,
                  threads: int | None = None) -> dict[str, Any]:
    """`harness sft` of `base` on `data` into `dest`, unless `dest` already holds this base, these
    data, this mix and this recipe (then its recorded info, marked reused)."""
    from harness.training.sft import finetune

    config = _sft_config(recipe, seed)
    cached = _reusable(base, data, dest, recipe, config)
    if cached is not None:
        return cached
    return finetune(base, data, dest, config, mix=recipe.mix, progress=progress, threads=threads)


def _finetune_job(job: tuple[Path, Path, Path, int], recipe: Any, progress: bool, threads: int | None) -> dict[str, Any]:
    base, train, dest, seed = job
    if threads is not None:
        from harness.cpu import set_torch_threads

        set_torch_threads(threads)
    return finetune_once(base, train, dest, recipe, seed, progress, threads=threads)


def finetune_all(jobs: Sequence[tuple[Path, Path, Path, int]], recipe: Any, progress: bool, say: Say) -> list[dict[str, Any]]:
    """Every (base, data, dest, seed) fine-tune, in order. On a CPU with free cores they run side by
    side, one process and one torch thread each: a tiny model's matrices are too small for threads
    to share, so two processes train nearly twice as fast as one with two threads. On a busy machine
    (`harness.cpu.threads()` is 1) or a GPU, one at a time."""
    import torch

    from harness.cpu import threads

    todo = [j for j in jobs if not _cached(j, recipe)]
    workers = 1 if torch.cuda.is_available() else min(len(todo), threads())
    if workers <= 1:
        return [_finetune_job(j, recipe, progress, None) for j in jobs]
    import concurrent.futures as cf
    import multiprocessing

    results: dict[int, dict[str, Any]] = {}
    with cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_finetune_job, j, recipe, False, 1): n for n, j in enumerate(jobs)}
        for f in cf.as_completed(futures):
            n = futures[f]
            results[n] = f.result()
            say(f"fine-tuned {jobs[n][2].name} ({results[n].get('seconds', 0):.0f} s)")
    return [results[n] for n in range(len(jobs))]


def _sft_config(recipe: Any, seed: int) -> Any:
    from harness.training.sft import SftConfig

    return SftConfig(max_steps=recipe.steps, batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
                     lora_r=recipe.lora_r, bf16=recipe.bf16, seed=seed, warmup=recipe.warmup)


def _cached(job: tuple[Path, Path, Path, int], recipe: Any) -> bool:
    base, train, dest, seed = job
    return _reusable(base, train, dest, recipe, _sft_config(recipe, seed)) is not None


def _reusable(base: Path, data: Path, dest: Path, recipe: Any, config: Any) -> dict[str, Any] | None:
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest() if p is not None else None  # noqa: E731
    info_path = dest / "sft.json"
    if info_path.is_file():
        info = json.loads(info_path.read_text())
        if (info.get("export_sha256") == digest(data) and info.get("mix_sha256") == digest(recipe.mix)
                and info.get("config") == asdict(config) and info.get("base") == str(base)):
            return {**info, "seconds": 0.0, "reused": True}
    return None


def augment(export: Path, dest: Path, task: Task, items: dict[str, Item], n: int, seed: int,
            unseen: set[str], tail: Sequence[str] = ()) -> tuple[Path, int, str | None]:
    """`export`'s lines, then up to `n` numeric variants of each line's item (synth recomputes every
    step of the worked solution), in the task's answer format, then the lines of `tail` (anchors). A variant whose question is any pool's
    question, or repeats another variant's, is dropped. Returns the file, the variants added, and
    why there are none when the task cannot be varied."""
    from harness.synth.variants import make_variants
    from harness.analysis.teach import write_sft_line

    rows = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in rows]
    added, note = 0, None
    if n and task.reference is None:
        note = f"task {task.name} has no reference answer format: no variants"
    elif n:
        parents = [items[r["item_id"]] for r in rows if r["item_id"] in items and "answer" in items[r["item_id"]].fields]
        if not parents:
            note = f"items of {task.name} carry no worked solution to vary"
        reason = {r["item_id"]: r.get("reason") for r in rows}
        seen = set(unseen)
        variants, _ = make_variants(parents, n, seed) if parents else ([], [])
        for v in variants:
            q = v.fields["question"].strip()
            # a variant whose prose synth could not keep has a bare calculation for a solution: not the
            # answer format the task teaches
            answer = task.reference(v) if v.meta.get("prose_kept", True) and task.reference is not None else None
            if q in seen or answer is None:
                continue
            seen.add(q)
            rendered = task.render(v)
            prompt = rendered if not isinstance(rendered, (list, tuple)) else rendered[0]
            lines.append(write_sft_line(prompt, answer, task=task.name, item_id=v.id, gold=v.gold,
                                        parent=v.meta["parent"], source="synth", reason=reason.get(v.meta["parent"])))
            added += 1
    write_atomic(dest, "".join(lines) + "".join(tail))
    return dest, added, note


class Loop:
    """One loop's state while it runs: the store, the counters, the evaluations made."""

    def __init__(self, cfg: LoopConfig, store: Store, *, student: ModelSpec, teacher: ModelSpec | None,
                 progress: bool, say: Say):
        self.cfg, self.store, self.student, self.teacher = cfg, store, student, teacher
        self.progress, self.say = progress, say
        self.generated = self.reused = 0
        self.loop_id = f"{cfg.name}-{stable_hash(cfg.to_json(), 8)}"

    def evaluate(self, spec: ModelSpec, task: Task, ids: frozenset[str], source: Source) -> str:
        summary = do_run(spec, [task], self.cfg.k, self.store, replace(source, items=ids), progress=self.progress,
                         command="harness loop", reuse=True)
        (ts,) = summary.tasks
        self.generated += ts.generated
        self.reused += ts.reused
        return summary.run_id

    def values(self, run_id: str, task: str, ids: Sequence[str]) -> list[float]:
        rows = {str(r["item_id"]): r for r in self.store.item_results(run_id, [task])}
        return [float(rows[i]["maj_correct"]) for i in ids]

    def model_name(self, phase: int, arm: str, seed: int) -> str:
        tag = f"-p{phase}" if len(self.cfg.phases) > 1 else ""
        return f"{self.student.name}-{self.cfg.name}{tag}-{arm}-s{seed}"


def run_loop(cfg: LoopConfig, *, store: Store | None = None, student: ModelSpec | None = None,
             teacher: ModelSpec | None = None, progress: bool = True, say: Say = lambda s: None,
             get_task: Callable[[str], Task] | None = None) -> dict[str, Any]:
    """Run the loop `cfg` describes; returns its result as JSON-able data (also in the store)."""
    if get_task is None:
        from harness.tasks import get_task as registry

        get_task = registry
    t0 = time.perf_counter()
    student = local_student(student or resolve(cfg.student, cfg.models))
    if teacher is None and cfg.teacher is not None:
        teacher = resolve(cfg.teacher, cfg.models)
    # Everything that can be wrong with the input is found before a folder or a store is made.
    say(f"fixing the pools of {len(cfg.phases)} phase(s) before anything is selected")
    pools = [make_pools(ph, get_task) for ph in cfg.phases]
    test_pools = _distinct_test_pools(pools)
    if cfg.recipe.mix is not None and not cfg.recipe.mix.is_file():
        raise HarnessError(f"the recipe's mix {cfg.recipe.mix} does not exist")
    out = cfg.out.resolve()
    models_file = out / "models.toml"
    # The loop adds its models to the file in `out`: another loop's models there (or the demo's)
    # stay. A file that does not parse is refused now, before anything is written.
    kept = load_models(models_file) if models_file.is_file() else {}
    out.mkdir(parents=True, exist_ok=True)
    store = store or Store(cfg.db or out / f"{cfg.name}.duckdb")
    loop = Loop(cfg, store, student=student, teacher=teacher, progress=progress, say=say)
    store.put_loop(loop.loop_id, cfg.name, cfg.to_json())
    all_questions = {str(it.fields.get("question", "")).strip() for p in pools for it in (*p.selection, *p.test)}
    starts = {(arm, seed): student for arm in cfg.arms for seed in cfg.seeds}
    phases_out: list[dict[str, Any]] = []
    arm_models: list[ModelSpec] = []
    for i, (phase, pool) in enumerate(zip(cfg.phases, pools), 1):
        arms, selection = _train_phase(loop, i, phase, pool, starts, all_questions, out)
        dpo_info = None
        if cfg.dpo is not None:
            from harness.loop.dpo import dpo_arms

            extra, dpo_info = dpo_arms(loop, i, pool, arms, selection, out)
            arms = arms + extra
        lineages = [read_lineage(a.spec.model) for a in arms]
        trained = {x for lin in lineages if lin is not None for x in lin.items}
        asked = {_user_text(line) for a in arms for line in a.train.read_text(encoding="utf-8").splitlines() if line.strip()}
        if cfg.recipe.mix is not None:
            asked |= {_user_text(line) for line in cfg.recipe.mix.read_text(encoding="utf-8").splitlines() if line.strip()}
        n_checked = check_disjoint(trained, {_question_of(q) for q in asked}, test_pools)
        say(f"phase {i}: no training file names or asks any of the {n_checked} test items (checked)")
        phases_out.append(_measure_phase(loop, i, phase, arms, test_pools, selection, n_checked))
        if dpo_info is not None:
            phases_out[-1]["dpo"].update(dpo_info)
        starts = {(a.arm, a.seed): a.spec for a in arms if a.arm in cfg.arms}  # the DPO arms are leaves
        arm_models += [a.spec for a in arms]

    entries = [student] + ([teacher] if teacher else []) + arm_models
    named = {e.name for e in entries}
    entries = [m for name, m in kept.items() if name not in named] + entries
    write_atomic(models_file, "\n".join(to_toml(m) for m in entries))
    result = {"loop": cfg.name, "loop_id": loop.loop_id, "student": student.name,
              "teacher": teacher.name if teacher else None, "k": cfg.k, "seeds": list(cfg.seeds),
              "arms": list(cfg.arms), "phases": phases_out, "generated": loop.generated, "reused": loop.reused,
              "store": str(store.path), "models_file": str(models_file), "seconds": round(time.perf_counter() - t0, 1)}
    store.finish_loop(loop.loop_id, result)
    return result


def _distinct_test_pools(pools: Sequence[Pools]) -> list[Pools]:
    """Each test pool once (phases on one domain share it); two different test pools of one task are
    refused: a task is measured on one pool throughout a loop."""
    seen: dict[str, Pools] = {}
    for p in pools:
        prior = seen.get(p.test_task.name)
        if prior is None:
            seen[p.test_task.name] = p
        elif prior.test_ids != p.test_ids:
            raise HarnessError(f"two phases test {p.test_task.name} on different pools: give them the same test_size "
                               "and split_seed (a task is measured on one test pool throughout the loop)")
    return list(seen.values())


def _user_text(line: str) -> str:
    row = json.loads(line)
    prompt = row.get("prompt")
    if "chosen" in row and isinstance(prompt, str):  # a preference pair: the prompt, then the shared prefix
        return prompt.removesuffix(row.get("prefix") or "")
    turns = row.get("messages") or (prompt if isinstance(prompt, list) else [])
    msgs = [m for m in turns if m.get("role") == "user"]
    return msgs[-1]["content"] if msgs else str(row.get("prompt_text") or "")


def _question_of(prompt: str) -> str:
    """The question in a rendered prompt (what follows the last 'Question:'), for the disjointness check."""
    q = prompt.rsplit("Question:", 1)[-1]
    return q.removesuffix("\nAnswer:").strip()


def _train_phase(loop: Loop, i: int, phase: Phase, pool: Pools, starts: dict[tuple[str, int], ModelSpec],
                 all_questions: set[str], out: Path) -> tuple[list[Arm], dict[str, Any]]:
    cfg, store, say = loop.cfg, loop.store, loop.say
    task = pool.selection_task
    sel_ids = pool.selection_ids
    say(f"phase {i} ({phase.label}): evaluating on the selection pool ({len(sel_ids)} items of {task.name}, k={cfg.k})")
    sel_runs: dict[str, str] = {}
    for spec in {s.name: s for s in starts.values()}.values():
        sel_runs[spec.name] = loop.evaluate(spec, task, sel_ids, pool.source)
    teacher_run = loop.evaluate(loop.teacher, task, sel_ids, pool.source) if loop.teacher else None
    teacher_rows = store.item_results(teacher_run, [task.name]) if teacher_run else None
    by_id = {it.id: it for it in pool.selection}

    def reference(item_id: str) -> tuple[Any, str] | None:
        it = by_id.get(item_id)
        if it is None or task.reference is None:
            return None
        answer = task.reference(it)
        if answer is None:
            return None
        rendered = task.render(it)
        return (rendered if not isinstance(rendered, (list, tuple)) else rendered[0]), answer

    folder = out / f"phase{i}"
    folder.mkdir(parents=True, exist_ok=True)
    arms: list[Arm] = []
    plans = []
    for arm in cfg.arms:
        for seed in cfg.seeds:
            start = starts[(arm, seed)]
            run_id = sel_runs[start.name]
            own = store.item_results(run_id, [task.name])
            picks = select(arm, own, teacher_rows, size=cfg.size, seed=seed, phase=i, band=cfg.band,
                           min_teacher_rate=cfg.min_teacher_rate)
            export = folder / f"{arm}-s{seed}.jsonl"
            written = export_items(store, run_id, task.name, picks, export, teacher_run_id=teacher_run,
                                   teacher=loop.teacher.name if loop.teacher else None, reference=reference,
                                   model=start.name)
            anchors = (_anchors(store, run_id, task.name, own, picks, folder / f"{arm}-s{seed}.anchors.jsonl", start.name)
                       if cfg.recipe.anchors else [])
            train, added, note = augment(export, folder / f"{arm}-s{seed}.train.jsonl", task, by_id, phase.augment,
                                         seed + 1000, all_questions, tail=anchors)
            if note and seed == cfg.seeds[0] and arm == cfg.arms[0]:
                say(f"phase {i}: {note}")
            sources: dict[str, int] = {}
            for _, src in written:
                key = src.split(":")[0]
                sources[key] = sources.get(key, 0) + 1
            if cfg.recipe.anchors:
                sources["anchor"] = len(anchors)
                added += len(anchors)
            plans.append((arm, seed, start, export, train, len(picks), sources, len(written) + added))
    teachable_n = next((p[5] for p in plans if p[0] == "teachable"), None)
    say(f"phase {i}: arms picked " + ", ".join(f"{a} {n}" for a, s, _, _, _, n, _, _ in plans if s == cfg.seeds[0])
        + f" items; fine-tuning {len(plans)} models ({cfg.recipe.steps} steps each)")
    jobs = []
    for arm, seed, start, _export, train, n_picked, _sources, examples in plans:
        if not n_picked or not examples:
            raise HarnessError(f"phase {i}: arm {arm} (seed {seed}) has nothing to train on "
                               f"({n_picked} items picked, {examples} examples): widen the band, add a teacher, or "
                               "use a task with reference solutions")
        jobs.append((Path(start.model), train, out / "models" / loop.model_name(i, arm, seed), seed))
    infos = finetune_all(jobs, cfg.recipe, loop.progress, say)
    for (arm, seed, start, export, train, n_picked, sources, examples), info, job in zip(plans, infos, jobs):
        spec = replace(loop.student, name=job[2].name, model=str(job[2]), finetuned_from=start.name)
        arms.append(Arm(i, arm, seed, spec, start, export, train, n_picked, sources, examples, info))
    selection = {"task": task.name, "items": len(sel_ids), "teachable": teachable_n,
                 "runs": sel_runs, "teacher_run": teacher_run}
    return arms, selection


def _anchors(store: Store, run_id: str, task: str, own: Sequence[dict[str, Any]], picks: Sequence[tuple[str, str]],
             dest: Path, model: str) -> list[str]:
    """The recipe's `anchors`: the start model's own shortest correct sample of every item it solves
    by majority in `run_id`, but the arm's picks, written to `dest`; returns its lines."""
    picked = {item_id for item_id, _ in picks}
    ids = sorted((str(r["item_id"]) for r in own if solved(r) and str(r["item_id"]) not in picked), key=item_order)
    export_items(store, run_id, task, [(i, "anchor") for i in ids], dest, model=model)
    return dest.read_text(encoding="utf-8").splitlines(keepends=True)


def _measure_phase(loop: Loop, i: int, phase: Phase, arms: list[Arm], pools: list[Pools],
                   selection: dict[str, Any], n_checked: int) -> dict[str, Any]:
    store, say = loop.store, loop.say
    rows: list[LoopArmRow] = []
    tests: list[dict[str, Any]] = []
    pooled_out: list[dict[str, Any]] = []
    versus: dict[str, Any] = {}
    dpo_out: dict[str, Any] = {}
    for pool in pools:
        task = pool.test_task
        ids = sorted(pool.test_ids, key=item_order)
        say(f"phase {i}: evaluating the base and {len(arms)} arm models on the test pool ({len(ids)} items of {task.name})")
        base_run = loop.evaluate(loop.student, task, frozenset(ids), pool.source)
        base = loop.values(base_run, task.name, ids)
        per: dict[str, dict[int, list[float]]] = {}
        arm_rows = []
        for a in arms:
            run_id = loop.evaluate(a.spec, task, frozenset(ids), pool.source)
            vals = loop.values(run_id, task.name, ids)
            per.setdefault(a.arm, {})[a.seed] = vals
            g = per_seed(vals, base, seed=a.seed)
            flagged = len(store.contaminated_items(run_id, task.name))
            arm_rows.append({"name": a.arm, "seed": a.seed, "model": a.spec.name, "phase": i, "task": task.name,
                             "n_train": a.n_picked, "examples": a.examples, "sources": a.sources,
                             "export": str(a.export), "run_id": run_id, "flagged": flagged,
                             "sft_seconds": a.sft.get("seconds"), "sft_reused": bool(a.sft.get("reused")),
                             "test_pool": g.to_json()})
            rows.append(LoopArmRow(loop_id=loop.loop_id, phase=i, arm=a.arm, seed=a.seed, model_name=a.spec.name,
                                   model_id=a.spec.fingerprint(), task=task.name, run_id=run_id, base_run_id=base_run,
                                   n_items=g.n_items, n_train=a.n_picked, score=g.after, base_score=g.before,
                                   diff=g.diff, diff_low=g.ci_low, diff_high=g.ci_high, p_value=g.p_value,
                                   export_path=str(a.export), recorded_at=now()))
        rows.append(LoopArmRow(loop_id=loop.loop_id, phase=i, arm="base", seed=0, model_name=loop.student.name,
                               model_id=loop.student.fingerprint(), task=task.name, run_id=base_run, base_run_id=None,
                               n_items=len(ids), n_train=None, score=sum(base) / len(base), base_score=None, diff=None,
                               diff_low=None, diff_high=None, p_value=None, export_path=None, recorded_at=now()))
        for arm, by_seed in per.items():
            g = pooled(by_seed, base)
            pooled_out.append({"arm": arm, "task": task.name, **g.to_json()})
        if "teachable" in per and "random" in per:
            seeds = sorted(set(per["teachable"]) & set(per["random"]))
            g = pooled({s: per["teachable"][s] for s in seeds}, {s: per["random"][s] for s in seeds})
            versus[task.name] = {**g.to_json(), "per_seed": [
                {"seed": s, **per_seed(per["teachable"][s], per["random"][s], seed=s).to_json()} for s in seeds]}
        if loop.cfg.dpo is not None:
            from harness.loop.dpo import dpo_versus

            dpo_out[task.name] = dpo_versus(per)
        tests.append({"task": task.name, "items": len(ids), "disjoint": True, "base_run": base_run,
                      "base": sum(base) / len(base), "arms": arm_rows})
    store.put_loop_arms(rows)
    return {"phase": i, "label": phase.label, "selection": selection, "test_pools": tests, "pooled": pooled_out,
            "teachable_vs_random": versus, "checked_test_items": n_checked,
            **({"dpo": {"versus": dpo_out}} if loop.cfg.dpo is not None else {})}
