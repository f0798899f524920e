"""`harness teach` and `harness export-sft`: the training queue of teachable items."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from harness.cli.common import DbOpt, JsonOpt, existing_store, require_model, split_csv
from harness.errors import HarnessError


def teach(
    model: Annotated[str, typer.Option("--model", "-m", help="the model that should learn (alias or ingested name)")],
    teacher: Annotated[Optional[str], typer.Option(help="a stronger model whose reliable solutions make an item teachable")] = None,
    task: Annotated[list[str], typer.Option("--task", "-t", help="tasks (default: every task the model has runs of)")] = [],
    min_teacher_rate: Annotated[float, typer.Option(help="teacher pass@1 that counts as 'solves reliably'")] = 0.75,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue the items MODEL fails by majority but could learn: some of its own samples are right,
    or TEACHER solves them reliably. Items nobody solves and items it already solves are left out.
    Uses each model's newest finished run of each task."""
    from harness.store import Store
    from harness.analysis.teach import queue_teachable

    tasks = split_csv(task)
    found = existing_store(db)  # a mistyped --db is an error, not a new empty store
    require_model(found, model)
    if teacher is not None:
        require_model(found, teacher, role="teacher")
    reports = queue_teachable(Store(found.path), model, teacher=teacher, tasks=tasks, min_teacher_rate=min_teacher_rate)
    if as_json:
        print(json.dumps([asdict(r) for r in reports]))
        return
    table = Table(title=f"teachable items queued for {model}")
    for col in ("task", "items", "own samples right", f"{teacher or 'teacher'} solves", "run"):
        table.add_column(col)
    for r in reports:
        table.add_row(r.task, str(r.n_items), str(r.own_samples), str(r.teacher), r.run_id)
    Console().print(table)

def export_sft_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help="whose training queue")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file of chat-format SFT examples")],
    include_exported: Annotated[bool, typer.Option("--all", help="also items exported before")] = False,
    thinking: Annotated[str, typer.Option(
        "--thinking", help="a thinking model's assistant turn: keep (default: <think>...</think> then the "
                           "answer) or drop (the final answer only)")] = "keep",
    db: DbOpt = None,
) -> None:
    """Write the queued items as SFT data (the model's own shortest correct sample, else the
    teacher's) and mark them exported: later scores on them are flagged as possibly contaminated.
    A sample whose thinking never closed is never exported; a thinking model's thinking is kept in
    the assistant turn unless --thinking drop."""
    from harness.store import Store
    from harness.analysis.teach import THINKING_MODES, export_sft

    if thinking not in THINKING_MODES:
        raise HarnessError(f"--thinking must be one of {', '.join(THINKING_MODES)}, got {thinking!r}")
    found = existing_store(db)  # checked before the output file is opened
    queued = found.queue(model, pending_only=not include_exported)
    if not queued:
        require_model(found, model)
        before = [] if include_exported else found.queue(model)
        if before:
            raise HarnessError(f"all {len(before)} item(s) queued for {model} in {found.path} were exported before "
                               f"(pass --all to export them again, or queue more with `harness teach`); "
                               f"{out} was not written")
        raise HarnessError(f"nothing queued for {model} in {found.path}: run `harness teach --model {model} "
                           f"--db {found.path}` first; {out} was not written")
    n = export_sft(Store(found.path), model, out, include_exported=include_exported,
                   thinking=thinking)
    Console(stderr=True).print(f"wrote {n} SFT examples to {out}")


def register(app: typer.Typer) -> None:
    app.command()(teach)
    app.command("export-sft")(export_sft_cmd)
