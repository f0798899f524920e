"""The `harness` command line. Commands from modules in `harness/commands/` register themselves."""

from __future__ import annotations

import importlib
import json
import pkgutil
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import HarnessError

app = typer.Typer(
    name="harness",
    help=(
        "Evaluate a small model against a large one: k samples per item, generated once and cached in a "
        "DuckDB file; majority vote over equivalent answers; pass@k; paired comparison.\n\n"
        "Start with `harness demo` (a tiny local model, no GPU or network), then "
        "`harness run --model ALIAS --task gsm8k -k 8` with a models file (see `harness models`)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
if not out.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
    out = Console(width=120)
err = Console(stderr=True)

DbOpt = Annotated[Optional[Path], typer.Option("--db", help="DuckDB results file (default: $HARNESS_DB, else ./harness.duckdb)")]
ModelsOpt = Annotated[Optional[Path], typer.Option("--models", help="models file (default: $HARNESS_MODELS, else ./models.toml, else the bundled examples)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object instead of tables")]


def _split(values: list[str]) -> list[str]:
    return [v.strip() for val in values for v in val.split(",") if v.strip()]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def print_summary(summary: Any, console: Console = out) -> None:
    table = Table(title=f"run {summary.run_id}  model {summary.model}")
    for col in ("task", "items", "k", "n", "maj@k", "pass@1", "pass@k", "new", "reused", "unparsed", "timeout"):
        table.add_column(col, justify="left" if col == "task" else "right")
    for t in summary.tasks:
        table.add_row(t.task, str(t.n_items), str(t.k), str(t.n or t.k), _pct(t.maj_at_k), _pct(t.pass_at_1), _pct(t.pass_at_k),
                      str(t.generated), str(t.reused), str(t.n_unparseable), str(t.n_timeout))
    console.print(table)
    for t in summary.tasks:
        for rep in t.reports:
            console.print(f"[bold]{t.task}: {rep.name}[/]\n{rep.text}", highlight=False)
        if t.possibly_contaminated:
            console.print(f"[yellow]warning:[/] {t.task}: {t.possibly_contaminated} of {t.n_items} items were exported "
                          f"as training data for {summary.model} (harness export-sft): their scores may be inflated")


@app.command()
def run(
    model: Annotated[str, typer.Option("--model", "-m", help="alias from the models file, or inline: hf:PATH_OR_ID, vllm:PATH_OR_ID, openai:MODEL@BASE_URL")],
    task: Annotated[list[str], typer.Option("--task", "-t", help="task name (repeat or comma-separate); see `harness tasks`")],
    k: Annotated[int, typer.Option("-k", help="k of maj@k and pass@k")] = 1,
    n: Annotated[Optional[int], typer.Option("-n", "--samples", help="samples per item (>= k; default k): maj@k and pass@k are then estimated over k-subsets of n")] = None,
    limit: Annotated[Optional[int], typer.Option(help="first N items of each task")] = None,
    db: DbOpt = None,
    models: ModelsOpt = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="folder with local benchmark files (default: $HARNESS_DATA_DIR, else the hub)")] = None,
    temperature: Annotated[Optional[float], typer.Option(help="overrides the model's default")] = None,
    top_p: Annotated[Optional[float], typer.Option("--top-p")] = None,
    max_tokens: Annotated[Optional[int], typer.Option("--max-tokens")] = None,
    seed: Annotated[Optional[int], typer.Option(help="base seed; sample i of a prompt draws with a seed derived from it and i")] = None,
    permutations: Annotated[Optional[int], typer.Option(help="multiple choice: evaluate each item under N orderings")] = None,
    as_json: JsonOpt = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="progress bars on stderr")] = True,
) -> None:
    """Generate k samples per item (reusing every stored one), grade, vote and store the results.

    Rerunning the same command generates nothing new; after a crash it picks up where it stopped;
    raising -k generates only the new samples.
    """
    from . import models as models_mod
    from .data import Source
    from .runner import run as do_run
    from .store import Store
    from .task import get_tasks

    spec = models_mod.resolve(model, models)
    tasks = get_tasks(_split(task))
    if not tasks:
        raise HarnessError("no task given: pass --task NAME (see `harness tasks`)")
    options = {"permutations": permutations} if permutations else {}
    source = Source.resolve(data_dir, limit, options)
    sampling = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seed": seed}
    summary = do_run(spec, tasks, k, Store(db), source, n=n, sampling=sampling, progress=progress,
                     command=shlex.join(["harness", *sys.argv[1:]]))
    if as_json:
        print(json.dumps(summary.to_json()))
    else:
        print_summary(summary)


@app.command("models")
def list_models(models: ModelsOpt = None, as_json: JsonOpt = False) -> None:
    """List model aliases from the models file (API keys are named, never shown)."""
    from .models import load_models, models_file

    specs = load_models(models)
    if as_json:
        print(json.dumps({name: s.describe() for name, s in specs.items()}))
        return
    where = models_file(models) or "bundled models.example.toml (copy it to ./models.toml to edit)"
    table = Table(title=f"models from {where}")
    for col in ("alias", "backend", "model", "params (B)", "family", "endpoint / key"):
        table.add_column(col)
    for name, s in specs.items():
        ep = f"{s.base_url}  key: ${s.api_key_env}" if s.base_url else ""
        table.add_row(name, s.backend, s.model, "" if s.params_b is None else f"{s.params_b:g}", s.family or "", ep)
    out.print(table)


@app.command("tasks")
def list_tasks(as_json: JsonOpt = False) -> None:
    """List the tasks this harness knows."""
    from .task import registry

    reg = registry()
    if as_json:
        print(json.dumps({n: {"version": t.version, "kind": t.kind, "description": t.description} for n, t in reg.items()}))
        return
    table = Table(title="tasks")
    for col in ("task", "version", "kind", "description"):
        table.add_column(col)
    for name, t in reg.items():
        table.add_row(name, str(t.version), t.kind, t.description)
    out.print(table)


@app.command()
def runs(db: DbOpt = None, limit: Annotated[Optional[int], typer.Option(help="newest N runs")] = None,
         as_json: JsonOpt = False) -> None:
    """List the runs in a results store, newest first."""
    from .store import Store

    rows = Store(db, read_only=True).runs(limit)
    if as_json:
        print(json.dumps(rows, default=str))
        return
    table = Table(title=f"runs in {Store(db, read_only=True).path}")
    for col in ("run", "model", "status", "k", "tasks", "items", "generated", "reused", "started"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["run_id"], r["model_name"], r["status"], str(r["k"]), ",".join(r["tasks"] or []),
                      str(r["n_items"] or 0), str(r["generated"] or 0), str(r["reused"] or 0),
                      str(r["started_at"])[:19])
    out.print(table)


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="JSONL of generations: model, task, item_id, response; optional sample, gold, prompt. Or `lm-eval DIR`: lm_eval's --output_path folder")],
    lm_eval_dir: Annotated[Optional[Path], typer.Argument(metavar="[DIR]", help="after `lm-eval`: the folder lm_eval --output_path --log_samples wrote")] = None,
    db: DbOpt = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="with lm-eval: store the run under this name (a models-file alias takes that model's id)")] = None,
    params_b: Annotated[Optional[float], typer.Option("--params-b", help="the model's size in billions of parameters")] = None,
    family: Annotated[Optional[str], typer.Option(help="model family")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="where the task's items are, for lines without gold")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Store generations made elsewhere as runs (one per model), graded by each task's own grader, so
    they are compared and shown like any other run."""
    from .data import Source
    from .ingest import ingest_file
    from .store import Store

    if str(path) == "lm-eval":  # harness ingest lm-eval DIR: see harness/commands/ingest.py
        from .commands.ingest import ingest_lm_eval

        return ingest_lm_eval(lm_eval_dir, db=db, model=model, params_b=params_b, family=family, as_json=as_json)
    if lm_eval_dir is not None:
        raise HarnessError(f"unexpected argument {lm_eval_dir}: ingest takes one JSONL file, or `lm-eval DIR`")
    runs_ = ingest_file(Store(db), path, params_b=params_b, family=family, source=Source.resolve(data_dir))
    if as_json:
        print(json.dumps([r.to_json() for r in runs_]))
        return
    for r in runs_:
        print_summary(r)


@app.command()
def demo(
    db: DbOpt = None,
    k: Annotated[int, typer.Option("-k")] = 4,
    limit: Annotated[int, typer.Option(help="items of the task")] = 20,
    task: Annotated[str, typer.Option(help="task to run (gsm8k needs --data-dir or the hub)")] = "arith",
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir")] = None,
    model_dir: Annotated[Optional[Path], typer.Option("--model-dir", help="where the tiny model is built (default: ~/.cache/harness)")] = None,
) -> None:
    """The main job on an embedded default: builds a tiny random-weight model locally (no download),
    runs an embedded task with k samples per item through the real transformers path, stores it.

    The model's weights are random, so its scores are meaningless: this shows the pipeline works.
    """
    from .data import Source
    from .models import ModelSpec
    from .runner import run as do_run
    from .store import Store
    from .task import get_task
    from .tiny import build_tiny_model

    path = build_tiny_model(model_dir)
    spec = ModelSpec(name="tiny-random", backend="hf", model=str(path), params_b=0.0002, family="tiny",
                     sampling={"max_tokens": 48, "temperature": 1.0})
    store = Store(db)
    summary = do_run(spec, [get_task(task)], k, store, Source.resolve(data_dir, limit), command="harness demo")
    print_summary(summary)
    err.print(
        f"[bold]Note:[/] the model at {path} has random weights, so these scores are meaningless; the numbers "
        f"show the pipeline (generate, cache, grade, vote, store) works. Results are in {store.path}; "
        f"see `harness runs --db {store.path}`. Run it again: everything is reused from the store."
    )


def _register_commands() -> None:
    from . import commands

    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{mod.name}")
        if hasattr(module, "register"):
            module.register(app)


_register_commands()


def main() -> None:
    try:
        app()
    except HarnessError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err.print("interrupted: every completed batch is stored; run the same command again to resume")
        raise SystemExit(130) from None
