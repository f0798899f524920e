"""What every command shares: the consoles, the options declared once, list splitting, run summaries.

Commands import from here and from the layers below (pipeline, analysis, store); never from each other,
and never from `harness.cli.app`, which imports them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Iterable, Optional

import typer
from rich.console import Console
from rich.table import Table

out = Console()
if not out.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
    out = Console(width=120)
err = Console(stderr=True)

DbOpt = Annotated[Optional[Path], typer.Option("--db", help="DuckDB results file (default: $HARNESS_DB, else ./harness.duckdb)")]
ModelsOpt = Annotated[Optional[Path], typer.Option("--models", help="models file (default: $HARNESS_MODELS, else ./models.toml, else the bundled examples)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object instead of tables")]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", help="folder with local benchmark files (default: $HARNESS_DATA_DIR, else the hub)")]
TaskArgOpt = Annotated[list[str], typer.Option("--task-arg", "-T", help="task option NAME=VALUE (repeat); see `harness tasks --json` for each task's options")]
RevisionOpt = Annotated[Optional[str], typer.Option("--revision", help="which weights the model is (a checkpoint step, a hash): part of its identity, overrides the models file's revision; a served model without one is never trusted across nights")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="progress bars on stderr")]


def split_csv(values: Iterable[str] | None) -> list[str]:
    """`-t a,b -t c` -> [a, b, c]: repeated and comma-separated values, blanks dropped."""
    return [v.strip() for val in values or () for v in str(val).split(",") if v.strip()]


def pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def print_summary(summary: Any, console: Console = out) -> None:
    table = Table(title=f"run {summary.run_id}  model {summary.model}")
    for col in ("task", "items", "k", "n", "maj@k", "pass@1", "pass@k", "new", "reused", "unparsed", "timeout"):
        table.add_column(col, justify="left" if col == "task" else "right")
    for t in summary.tasks:
        table.add_row(t.task, str(t.n_items), str(t.k), str(t.n or t.k), pct(t.maj_at_k), pct(t.pass_at_1), pct(t.pass_at_k),
                      str(t.generated), str(t.reused), str(t.n_unparseable), str(t.n_timeout))
    console.print(table)
    for t in summary.tasks:
        for rep in t.reports:
            console.print(f"[bold]{t.task}: {rep.name}[/]\n{rep.text}", highlight=False)
        if t.possibly_contaminated:
            console.print(f"[yellow]warning:[/] {t.task}: {t.possibly_contaminated} of {t.n_items} items were exported "
                          f"as training data for {summary.model} (harness export-sft): their scores may be inflated")
