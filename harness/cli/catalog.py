"""`harness models`, `harness tasks`, `harness runs`: what the harness knows and what the store holds."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from harness.cli.common import DbOpt, JsonOpt, ModelsOpt, out


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


def runs(db: DbOpt = None, limit: Annotated[Optional[int], typer.Option(help="newest N runs")] = None,
         as_json: JsonOpt = False) -> None:
    """List the runs in a results store, newest first."""
    from harness.store import Store

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


def register(app: typer.Typer) -> None:
    app.command("models")(list_models)
    app.command("tasks")(list_tasks)
    app.command()(runs)
