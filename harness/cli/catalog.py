"""`harness models`, `harness tasks`, `harness runs`: what the harness knows and what the store holds."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from harness.cli.common import DbOpt, JsonOpt, ModelsOpt, out, pct


def list_models(models: ModelsOpt = None, as_json: JsonOpt = False) -> None:
    """List model aliases from the models file (API keys are named, never shown)."""
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


def register(app: typer.Typer) -> None:
    app.command("models")(list_models)
    app.command("tasks")(list_tasks)
    app.command()(runs)
