"""`harness compare A vs B`: paired comparison of two models on the items both have results for.

Reads each model's latest results, size and price (`harness.analysis.results`), hands the per-item
results to `harness.analysis.compare.compare` and prints a rich table, markdown or JSON. A task one
model lacks is named with the exact `harness run` command that would produce it; `--run` runs those
commands first.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any, Optional, Sequence

import typer

from harness.cli.common import DbOpt, close_matches, split_csv
from rich.console import Console

from harness.analysis.compare import METRICS, compare
from harness.analysis.compare_render import render_markdown, render_table, to_json_dict
from harness.analysis.results import ModelResults, TaskRun, load_results
from harness.errors import HarnessError
from harness.analysis.stats import DEFAULT_RESAMPLES

FORMATS = ("table", "markdown", "json")


def _runnable(name: str, models_path: Path | None) -> bool:
    """Whether `harness run --model NAME` can work: an alias of the models file or an inline spec."""
    from harness.models import resolve

    try:
        resolve(name, models_path)
    except HarnessError:
        return False
    return True


def _check_names(store: Any, a: "ModelResults", b: "ModelResults", requested: Sequence[str] | None,
                 models_path: Path | None) -> None:
    """Exit 2 (HarnessError) for a model the store has no finished run of and no models file can
    run, and for a requested task no model has and no task registry knows, naming close matches."""
    from harness.tasks import get_task

    known = sorted({r["model_name"] for r in store.runs() if r["status"] == "done"})
    for m in (a, b):
        if m.name not in known and not _runnable(m.name, models_path):
            raise HarnessError(
                f"unknown model {m.name!r}: no finished run in {store.path}{close_matches(m.name, known)} "
                f"(models with results: {', '.join(known) or 'none'}; see `harness runs --db {store.path}`)")
    stored = {t for m in known for t in store.tasks_of_model(m)}
    for t in requested or ():
        if t not in stored:
            try:
                get_task(t)
            except HarnessError:
                raise HarnessError(f"unknown task {t!r}{close_matches(t, stored)} (tasks with results in "
                                   f"{store.path}: {', '.join(sorted(stored)) or 'none'})") from None


def run_command(model: str, task: str, other: TaskRun | None, db: Path | None, models_path: Path | None) -> list[str]:
    """The `harness run` argv that would give `model` results on `task` comparable with the other
    model's: same k and, when the other ran a subset, the same number of first items."""
    argv = ["harness", "run", "--model", model, "--task", task]
    if other is not None:
        argv += ["-k", str(other.k), "--limit", str(other.n_items)]
    if db is not None:
        argv += ["--db", str(db)]
    if models_path is not None:
        argv += ["--models", str(models_path)]
    return argv


def _missing_runs(a: ModelResults, b: ModelResults, tasks: Sequence[str]) -> list[tuple[str, str, TaskRun | None]]:
    """(model, task, the other model's run) for each requested task a model has no results for."""
    out = []
    for task in tasks:
        for me, other in ((a, b), (b, a)):
            if task not in me.runs:
                out.append((me.name, task, other.runs.get(task)))
    return out


def _warnings(a: ModelResults, b: ModelResults, tasks: Sequence[str]) -> list[str]:
    notes = []
    for task in tasks:
        ra, rb = a.runs.get(task), b.runs.get(task)
        if ra is None or rb is None:
            continue
        if ra.k != rb.k:
            notes.append(f"{task}: {a.name} has k={ra.k}, {b.name} k={rb.k}; maj@k and pass@k compare unequal budgets")
        if ra.task_version != rb.task_version:
            notes.append(f"{task}: {a.name} ran task version {ra.task_version}, {b.name} version {rb.task_version}")
    return notes


def _parse_pair(pair: Sequence[str]) -> tuple[str, str]:
    words = list(pair)
    if len(words) == 3 and words[1].lower() == "vs":
        return words[0], words[2]
    if len(words) == 2:
        return words[0], words[1]
    raise HarnessError("name two models: harness compare A vs B (e.g. harness compare phi vs 70b)")


def compare_command(
    pair: Annotated[list[str], typer.Argument(metavar="A vs B", help="two model aliases or ingested model names")],
    task: Annotated[Optional[list[str]], typer.Option("--task", "-t", help="task (repeat or comma-separate); default: every task either model has")] = None,
    metric: Annotated[str, typer.Option(help="maj@k (per-item majority outcome), pass@1 (per-item mean) or pass@k")] = "maj@k",
    db: DbOpt = None,
    models: Annotated[Optional[Path], typer.Option(
        "--models", help="models file, for parameter counts, prices (price_per_mtok) and --run")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, markdown or json")] = "table",
    items: Annotated[bool, typer.Option("--items", help="list the items whose outcomes differ, most confident disagreements first")] = False,
    item_limit: Annotated[Optional[int], typer.Option("--item-limit", help="show at most N differing items in table/markdown (json lists all)")] = 50,
    run_missing: Annotated[bool, typer.Option("--run", help="first run the `harness run` commands for missing tasks")] = False,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="with --run: folder with local benchmark files")] = None,
    seed: Annotated[int, typer.Option(help="seed of the bootstrap and permutation resampling")] = 0,
    resamples: Annotated[int, typer.Option(help="bootstrap / permutation resamples")] = DEFAULT_RESAMPLES,
    margin: Annotated[float, typer.Option(help="equivalence margin in score points (0.02 = 2 points) for the size verdict")] = 0.02,
) -> None:
    """Compare model A with model B item by item: each model's score with a 95% interval, the
    difference with a paired bootstrap interval (items resampled, 10,000 times by default, seeded),
    McNemar's exact test (maj@k) or a paired sign-flip test (pass@1, pass@k), the items only one of
    them solves, agreement, and size efficiency from parameter counts. Then, per task and model:
    right, wrong and unfinished samples (thinking that never closed: no answer, not a wrong one),
    generated tokens per sample and per right answer, and with price_per_mtok in the models file,
    the samples' cost and the cost per right answer.
    """
    from harness.store import Store

    a_name, b_name = _parse_pair(pair)
    if a_name == b_name:
        raise HarnessError(f"compare needs two different models, got {a_name!r} twice: harness compare {a_name} vs OTHER")
    if metric not in METRICS:
        raise HarnessError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if fmt not in FORMATS:
        raise HarnessError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if resamples < 100:
        raise HarnessError("--resamples must be at least 100 for a 95% interval to mean anything")
    err = Console(stderr=True)
    store = Store(db, read_only=True)
    requested = split_csv(task) or None
    a, b = load_results(store, a_name, models, requested), load_results(store, b_name, models, requested)
    wanted = requested or sorted(set(a.runs) | set(b.runs))
    _check_names(store, a, b, requested, models)
    if not a.runs and not b.runs:
        known = ", ".join(sorted({r["model_name"] for r in store.runs() if r["status"] == "done"})) or "none"
        what = f" on {', '.join(wanted)}" if requested else ""
        raise HarnessError(f"no results for {a_name} or {b_name}{what} in {store.path}; models with results: {known}")

    missing = _missing_runs(a, b, wanted)
    if missing and run_missing:
        _run_missing([x for x in missing if _runnable(x[0], models)], db, models, data_dir)
        store = Store(db, read_only=True)
        a, b = load_results(store, a_name, models, wanted), load_results(store, b_name, models, wanted)
        missing = _missing_runs(a, b, wanted)

    result = compare(a.outcomes, b.outcomes, a_name=a_name, b_name=b_name, metric=metric, tasks=wanted,
                     a_params=a.params, b_params=b.params, n_resamples=resamples, seed=seed, margin=margin,
                     a_price=a.price, b_price=b.price)
    runnable = {m: _runnable(m, models) for m in (a_name, b_name)}
    commands = [shlex.join(run_command(m, t, other, db, models)) for m, t, other in missing if runnable[m]]
    unrunnable = sorted({(m, t) for m, t, _ in missing if not runnable[m]})
    notes = _warnings(a, b, wanted) + contamination_notes(result)

    if fmt == "json":
        doc = to_json_dict(result, include_items=items)
        doc["run_commands"] = commands
        doc["notes"] = notes + [_ingest_note(m, t) for m, t in unrunnable]
        doc["runs"] = {side: {t: {"run_id": r.run_id, "k": r.k, "task_version": r.task_version}
                              for t, r in m.runs.items() if t in wanted}
                       for side, m in (("a", a), ("b", b))}
        print(json.dumps(doc, indent=2, allow_nan=False))
    elif fmt == "markdown":
        print(render_markdown(result, include_items=items, item_limit=item_limit), end="")
    else:
        Console().print(render_table(result, include_items=items, item_limit=item_limit))
    if fmt != "json":
        for note in notes:
            err.print(f"[yellow]note:[/] {note}", highlight=False, markup=True)
        for m, t in unrunnable:
            err.print(f"note: {_ingest_note(m, t)}", highlight=False, markup=False)
        if commands:
            err.print("missing results; to produce them run (or add --run):", highlight=False)
            for c in commands:
                err.print(f"  {c}", highlight=False, markup=False)


def contamination_notes(result: Any) -> list[str]:
    """One note per model and task where the model's weights were trained on compared items."""
    out = []
    for t in result.tasks:
        for name, n in ((result.a_name, t.a_contaminated), (result.b_name, t.b_contaminated)):
            if n:
                out.append(f"{name} was trained on {n} of the {t.n_items} {t.task} items compared (its lineage): "
                           "its score there may be inflated (possibly contaminated)")
    return out


def _ingest_note(model: str, task: str) -> str:
    return (f"{model} has no results on {task} and is not in the models file (an ingested model?): "
            f"`harness ingest` its {task} generations, or add it to the models file to run it")


def _run_missing(missing: Sequence[tuple[str, str, TaskRun | None]], db: Path | None, models_path: Path | None,
                 data_dir: Path | None) -> None:
    """Run each missing (model, task) with the other model's k and item count, through the runner."""
    from harness.data import Source
    from harness.models import resolve
    from harness.pipeline.runner import run
    from harness.store import Store
    from harness.tasks import get_task

    for model, task, other in missing:
        spec = resolve(model, models_path)
        k = other.k if other is not None else 1
        limit = other.n_items if other is not None else None
        run(spec, [get_task(task)], k, Store(db), Source.resolve(data_dir, limit),
            command=shlex.join(run_command(model, task, other, db, models_path)))


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_command)
