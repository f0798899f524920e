"""What every command shares: the consoles, the options declared once, list splitting, run summaries.

Commands import from here and from the layers below (pipeline, analysis, store); never from each other,
and never from `harness.cli.app`, which imports them all.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterable, Iterator, Optional

import typer
from rich.console import Console
from rich.table import Table

from harness.errors import HarnessError, did_you_mean
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

# The options `harness sft` and `harness dpo` share: a training run's budget, seed and result's name.
MaxStepsOpt = Annotated[Optional[int], typer.Option(help="a fixed number of optimizer steps instead of epochs")]
LoraOpt = Annotated[Optional[int], typer.Option(help="train LoRA adapters of this rank (merged into the output)")]
Bf16Opt = Annotated[bool, typer.Option("--bf16", help="train in bfloat16 (GPUs)")]
TrainSeedOpt = Annotated[int, typer.Option(help="seed of the data order and initialisation")]
AliasOpt = Annotated[Optional[str], typer.Option(help="models-file alias printed for the result (default: the folder name)")]
FinetunedFromOpt = Annotated[Optional[str], typer.Option(
    help="the base model's alias, written into the printed entry (the result's contamination flags come from the "
         "lineage.json written beside its weights)")]
ConventionsOpt = Annotated[Optional[str], typer.Option("--conventions", help="math: named conventions, strict (the default: exact decimals, percent as the number before the sign) or lenient (Math-Verify-compatible: rounded decimals, percent either way, a decimal comma, ellipses); single flags override it")]
PercentOpt = Annotated[Optional[str], typer.Option("--percent", help="math: '33.5%' is 33.5 (strip), 0.335 (divide) or either")]
DecimalsOpt = Annotated[Optional[str], typer.Option("--decimals", help="math: '0.6667' vs 2/3: unequal (exact) or a rounding of it (rounded)")]
DecimalCommaOpt = Annotated[Optional[bool], typer.Option("--decimal-comma/--no-decimal-comma", help="math: '3,5' is 3.5 (locale decimal comma)", show_default=False)]
ListOrderOpt = Annotated[Optional[str], typer.Option("--list-order", help="math: a bare list '3, 5' matches in any order (any) or in order (ordered)")]
ToleranceOpt = Annotated[Optional[float], typer.Option("--tolerance", help="math: accepted relative difference between numbers")]


def math_options(conventions: str | None, **flags: Any) -> Any:
    """The MathOptions of --conventions and the single flags (None: not given), checked."""
    from harness.grading.math.conventions import math_options as make

    for name, allowed in (("percent", ("strip", "divide", "either")), ("decimals", ("exact", "rounded")),
                          ("list_order", ("any", "ordered"))):
        if flags.get(name) is not None and flags[name] not in allowed:
            raise typer.BadParameter(f"--{name.replace('_', '-')} must be one of {', '.join(allowed)}")
    if "tolerance" in flags:
        flags["rel_tol"] = flags.pop("tolerance")
    try:
        return make(conventions, flags)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


KOpt = Annotated[int, typer.Option("-k", help=f"k of maj@k and pass@k: samples voted per item (default {DEFAULT_K}, as in every command)")]


def close_matches(name: str, known: Iterable[str]) -> str:
    """'; did you mean a, b?' for the known names closest to `name` (case-insensitive), else ''."""
    return did_you_mean(name, known)


def existing_store(db: Path | None) -> Any:
    """The results store at --db for a command that reads it (or adds to what is there): one that
    does not exist is an error, never a new empty file."""
    from harness.store import Store, resolve_db_path

    path = resolve_db_path(db)
    if not path.exists():
        raise HarnessError(f"no results store at {path}: check --db (or $HARNESS_DB), or make one with "
                           "`harness run` or `harness ingest`")
    return Store(path, read_only=True)


@contextmanager
def writing_store(db: Path | None) -> Iterator[Any]:
    """The results store at --db for a command that writes. When the command fails on bad input
    (HarnessError) and the file is one this command made, holding no run, the file is removed:
    a failure leaves no store it did not find."""
    from harness.store import Store, resolve_db_path

    path = resolve_db_path(db)
    fresh = not path.exists()
    store = Store(path)
    try:
        yield store
    except HarnessError:
        if fresh and path.exists() and not store.runs():
            for leftover in (path, path.with_name(path.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise


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
    graded = any(t.conventions for t in summary.tasks)
    for col in ("task", "items", "k", "n", "maj@k", "pass@1", "pass@k", "new", "reused", "unparsed", "timeout",
                "unfinished", "tokens (think/answer)", *(("conventions",) if graded else ())):
        table.add_column(col, justify="left" if col in ("task", "conventions") else "right")
    for t in summary.tasks:
        table.add_row(t.task, str(t.n_items), str(t.k), str(t.n or t.k), pct(t.maj_at_k), pct(t.pass_at_1), pct(t.pass_at_k),
                      str(t.generated), str(t.reused), str(t.n_unparseable), str(t.n_timeout), str(t.n_unfinished),
                      _tokens(t.usage), *((t.conventions or "",) if graded else ()))
    console.print(table)
    for t in summary.tasks:
        for rep in t.reports:
            console.print(f"[bold]{t.task}: {rep.name}[/]\n{rep.text}", highlight=False)
        if t.possibly_contaminated:
            console.print(f"[yellow]warning:[/] {t.task}: {t.possibly_contaminated} of {t.n_items} items were exported "
                          f"as training data for {summary.model} (harness export-sft): their scores may be inflated")


def audit_after_run(store: Any, run_id: str, tasks: Any = None) -> list[Any]:
    """A second opinion on a stored run's math tasks (Math-Verify), stored; see harness.pipeline.audit."""
    from harness.pipeline.audit import audit_run

    return audit_run(store, run_id, tasks=tasks)


def audits_json(audits: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for a in audits:
        s = a.summary
        out.append({"task": s.task, "grader": s.grader, "samples": s.n_samples, "checked": s.n_checked,
                    "disagree": s.n_disagree, "items_disagree": s.n_items_disagree, "items": s.n_items,
                    "disagreement_rate": a.rate, "their_pass_at_1": s.their_pass_at_1, "our_pass_at_1": s.our_pass_at_1,
                    "disagreements": [{"item_id": d.item_id, "sample": d.sample_index, "gold": d.gold,
                                       "extracted": d.extracted, "ours": d.ours, "theirs": d.theirs}
                                      for d in a.disagreements]})
    return out


def print_audits(audits: Iterable[Any], console: Console = out, show: int = 10) -> None:
    """The second opinion per task, and the first `show` disagreements of each."""
    audits = list(audits)
    if not audits:
        console.print("second opinion: no math task to audit in this run")
        return
    table = Table(title=f"second opinion: {audits[0].summary.grader}")
    for col in ("task", "samples", "judged", "disagree", "rate", "items", "pass@1 ours", "pass@1 theirs"):
        table.add_column(col, justify="left" if col == "task" else "right")
    for a in audits:
        s = a.summary
        table.add_row(s.task, str(s.n_samples), str(s.n_checked), str(s.n_disagree), pct(a.rate),
                      f"{s.n_items_disagree}/{s.n_items}", pct(s.our_pass_at_1), pct(s.their_pass_at_1))
    console.print(table)
    for a in audits:
        for d in a.disagreements[:show]:
            console.print(f"  {a.summary.task} item {d.item_id} sample {d.sample_index}: gold {d.gold!r}, answer "
                          f"{d.extracted!r}: ours {d.ours}, theirs {d.theirs}", highlight=False, markup=False)
        if len(a.disagreements) > show:
            console.print(f"  ... {len(a.disagreements) - show} more in {a.summary.task} (--json lists them all)")


def models_entry(name: str, folder: Path, finetuned_from: str | None = None) -> str:
    """The models-file entry of a model folder a training command wrote (`models.to_toml`)."""
    from harness.models import ModelSpec, to_toml

    return to_toml(ModelSpec(name=name, backend="hf", model=str(folder.resolve()), finetuned_from=finetuned_from))
