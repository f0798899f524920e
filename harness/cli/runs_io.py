"""`harness export-runs` / `harness import-runs`: runs as Parquet folders, merged into one store
without duplicates (see `harness.store.parquet`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from harness.cli.common import DbOpt, JsonOpt, out


def export_runs(
    dest: Annotated[Path, typer.Argument(help="folder to write (one Parquet file per table)")],
    db: DbOpt = None,
    run: Annotated[Optional[list[str]], typer.Option("--run", help="run id (repeat); default: every done run")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="only this model's done runs")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write runs and what they point at (model, items, prompts, generations, results) as Parquet."""
    from harness.store import Store
    from harness.store.parquet import export_runs as export

    counts = export(Store(db, read_only=True), dest, run_ids=run or None, model=model)
    if as_json:
        print(json.dumps({"dest": str(dest), "rows": counts}))
    else:
        out.print(f"exported {counts['runs']} run(s) to {dest}: "
                  + ", ".join(f"{t} {n}" for t, n in counts.items()), highlight=False)


def import_runs(
    src: Annotated[list[Path], typer.Argument(help="export folders, or folders holding them at any depth")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Merge exported runs into the store; rows it already holds are skipped, so importing twice adds nothing."""
    from harness.store import Store
    from harness.store.parquet import import_runs as merge

    added = merge(Store(db), src)
    if as_json:
        print(json.dumps({"added": added}))
    else:
        out.print("added " + ", ".join(f"{t} {n}" for t, n in added.items()), highlight=False)


def register(app: typer.Typer) -> None:
    app.command("export-runs")(export_runs)
    app.command("import-runs")(import_runs)
