"""`harness nightly`: run a suite on every model, then flag regressions against the previous night."""

from __future__ import annotations

import json
import shlex
import sys
from typing import Annotated, Optional

import typer

from harness.cli.common import DataDirOpt, DbOpt, JsonOpt, ModelsOpt, split_csv
from rich.console import Console
from rich.table import Table

STYLE = {"regression": "bold red", "improvement": "green", "steady": "", "no_baseline": "dim"}


def nightly(
    model: Annotated[list[str], typer.Option("--model", "-m", help="models to run and check (repeat)")],
    task: Annotated[list[str], typer.Option("--task", "-t", help="tasks (repeat or comma-separate)")],
    k: Annotated[int, typer.Option("-k", help="samples per item")] = 8,
    limit: Annotated[Optional[int], typer.Option(help="first N items of each task")] = None,
    alpha: Annotated[float, typer.Option(help="significance level for a change")] = 0.05,
    check_only: Annotated[bool, typer.Option("--check-only", help="skip the runs; check the newest runs in the store")] = False,
    db: DbOpt = None,
    models: ModelsOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run TASKs on every MODEL (everything already stored is reused), then judge each model's
    newest run of each task against its previous one, item by item (McNemar's exact test, paired
    bootstrap interval). Exits 1 when any task regressed, so cron or CI can alert."""
    from harness import models as models_mod
    from harness.data import Source
    from harness.analysis.nightly import check_models
    from harness.pipeline.runner import run
    from harness.store import Store
    from harness.tasks import get_tasks

    names = split_csv(task)
    tasks = get_tasks(names)
    store = Store(db)
    if not check_only:
        source = Source.resolve(data_dir, limit)
        for m in model:
            spec = models_mod.resolve(m, models)
            run(spec, tasks, k, store, source, progress=not as_json,
                command=shlex.join(["harness", *sys.argv[1:]]))
    checks = check_models(store, [models_mod.resolve(m, models).name for m in model], names, alpha)
    if as_json:
        print(json.dumps([c.to_json() for c in checks]))
    else:
        table = Table(title=f"nightly check (alpha {alpha})")
        for col in ("model", "task", "items", "before", "now", "diff [95% CI]", "p", "status"):
            table.add_column(col)
        for c in checks:
            fmt = lambda x: "" if x is None else f"{100 * x:.1f}"
            ci = "" if c.diff is None else f"{100 * c.diff:+.1f} [{100 * c.diff_low:+.1f}, {100 * c.diff_high:+.1f}]"
            table.add_row(c.model_name, c.task, str(c.n_items), fmt(c.baseline_score), fmt(c.score), ci,
                          "" if c.p_value is None else f"{c.p_value:.3g}", f"[{STYLE[c.status]}]{c.status}[/]")
        Console().print(table)
    if any(c.status == "regression" for c in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(nightly)
