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

from harness.errors import HarnessError
from harness.vote import DEFAULT_K

_consoles: dict[int | None, Console] = {}


def _out_console() -> Console:
    """Stdout as a console sized when printing: $COLUMNS when set, else the terminal's width, else
    (piped or captured) 120 columns, so tables are not squeezed for no one; tables wrap to the width."""
    import os

    cols = os.environ.get("COLUMNS", "")
    width = int(cols) if cols.isdigit() else None
    if width is None and not Console().is_terminal:
        width = 120
    if width not in _consoles:
        _consoles[width] = Console(width=width)
    return _consoles[width]


class _Out:
    def __getattr__(self, name: str) -> Any:
        return getattr(_out_console(), name)


out: Console = _Out()  # type: ignore[assignment]
err = Console(stderr=True)

DbOpt = Annotated[Optional[Path], typer.Option("--db", help="DuckDB results file (default: $HARNESS_DB, else ./harness.duckdb)")]
ModelsOpt = Annotated[Optional[Path], typer.Option("--models", help="models file (default: $HARNESS_MODELS, else ./models.toml, else the bundled examples)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object instead of tables")]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", help="folder with local benchmark files (default: $HARNESS_DATA_DIR, else the hub)")]
TaskArgOpt = Annotated[list[str], typer.Option("--task-arg", "-T", help="task option NAME=VALUE (repeat); see `harness tasks --json` for each task's options")]
RevisionOpt = Annotated[Optional[str], typer.Option("--revision", help="which weights the model is (a checkpoint step, a hash): part of its identity, overrides the models file's revision; a served model without one is never trusted across nights")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="progress bars on stderr")]
KOpt = Annotated[int, typer.Option("-k", help=f"k of maj@k and pass@k: samples voted per item (default {DEFAULT_K}, as in every command)")]


def close_matches(name: str, known: Iterable[str]) -> str:
    """'; did you mean a, b?' for the known names closest to `name` (case-insensitive), else ''."""
    import difflib

    known = sorted(set(known))
    lower = {k.lower(): k for k in known}
    close = [lower[c] for c in difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.5)]
    close += [k for k in known if name.lower() in k.lower() and k not in close][: 3 - len(close)]
    return f"; did you mean {', '.join(close)}?" if close else ""


def existing_store(db: Path | None) -> Any:
    """The results store at --db for a command that reads it (or adds to what is there): one that
    does not exist is an error, never a new empty file."""
    from harness.store import Store, resolve_db_path

    path = resolve_db_path(db)
    if not path.exists():
        raise HarnessError(f"no results store at {path}: check --db (or $HARNESS_DB), or make one with "
                           "`harness run` or `harness ingest`")
    return Store(path, read_only=True)


def require_model(store: Any, name: str, *, role: str = "model") -> None:
    """Exit 2 naming the close matches when `name` has no finished run in `store`."""
    known = {r["model_name"] for r in store.runs() if r["status"] == "done"}
    if name not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise HarnessError(f"{role} {name!r} has no finished run in {store.path}{close_matches(name, known)} "
                           f"(models with results: {listed}; see `harness runs --db {store.path}`)")


def split_csv(values: Iterable[str] | None) -> list[str]:
    """`-t a,b -t c` -> [a, b, c]: repeated and comma-separated values, blanks dropped."""
    return [v.strip() for val in values or () for v in str(val).split(",") if v.strip()]


def pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def _tokens(usage: Any) -> str:
    """Generated tokens, with the thinking / answer split where known."""
    if usage.completion_tokens is None:
        return ""
    if usage.thinking_tokens is None:
        return f"{usage.completion_tokens:,}"
    return f"{usage.completion_tokens:,} ({usage.thinking_tokens:,}/{usage.answer_tokens:,})"


def print_summary(summary: Any, console: Console = out) -> None:
    table = Table(title=f"run {summary.run_id}  model {summary.model}")
    for col in ("task", "items", "k", "n", "maj@k", "pass@1", "pass@k", "new", "reused", "unparsed", "timeout",
                "unfinished", "tokens (think/answer)"):
        table.add_column(col, justify="left" if col == "task" else "right")
    for t in summary.tasks:
        table.add_row(t.task, str(t.n_items), str(t.k), str(t.n or t.k), pct(t.maj_at_k), pct(t.pass_at_1), pct(t.pass_at_k),
                      str(t.generated), str(t.reused), str(t.n_unparseable), str(t.n_timeout), str(t.n_unfinished),
                      _tokens(t.usage))
    console.print(table)
    for t in summary.tasks:
        for rep in t.reports:
            console.print(f"[bold]{t.task}: {rep.name}[/]\n{rep.text}", highlight=False)
        if t.possibly_contaminated:
            console.print(f"[yellow]warning:[/] {t.task}: {t.possibly_contaminated} of {t.n_items} items were exported "
                          f"as training data for {summary.model} (harness export-sft): their scores may be inflated")
