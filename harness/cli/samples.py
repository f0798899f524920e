"""`harness samples --run RUN`: every stored sample of a run with its extracted answer and verdict
(what lm-eval writes to samples_*.jsonl and Inspect keeps in its log), as a list or as JSONL."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.markup import escape

from harness.cli.common import DbOpt, close_matches, existing_store, out
from harness.errors import HarnessError

FORMATS = ("table", "jsonl")
VERDICT_STYLE = {"correct": "green", "incorrect": "red", "unparseable": "yellow", "timeout": "magenta"}


def samples(
    run: Annotated[str, typer.Option("--run", "-r", help="run id (see `harness runs`)")],
    task: Annotated[Optional[str], typer.Option("--task", "-t", help="only this task of the run")] = None,
    item: Annotated[Optional[str], typer.Option("--item", "-i", help="only this item id")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table (one block per sample, full text) or jsonl")] = "table",
    as_json: Annotated[bool, typer.Option("--json", help="same as --format jsonl")] = False,
    db: DbOpt = None,
) -> None:
    """Print every sample of a run: task, item, sample index, verdict, extracted answer against the
    gold answer, and the full completion text."""
    if fmt not in FORMATS:
        raise HarnessError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    store = existing_store(db)
    found = store.runs()
    ids = [r["run_id"] for r in found]
    if run not in ids:
        raise HarnessError(f"no run {run!r} in {store.path}{close_matches(run, ids)} (see `harness runs --db {store.path}`)")
    (meta,) = [r for r in found if r["run_id"] == run]
    tasks = meta["tasks"] or []
    if task is not None and task not in tasks:
        raise HarnessError(f"run {run} has no task {task!r}{close_matches(task, tasks)} (its tasks: {', '.join(tasks) or 'none'})")
    rows = store.run_samples(run, task, item)
    if item is not None and not rows:
        raise HarnessError(f"run {run} has no item {item!r}" + (f" in {task}" if task else "")
                           + f" (see `harness samples --run {run} --format jsonl`)")
    if as_json or fmt == "jsonl":
        for r in rows:
            print(json.dumps({"run_id": run, "model": meta["model_name"], **r}, ensure_ascii=False, default=str))
        return
    out.print(f"[bold]run {escape(run)}[/]  model {escape(meta['model_name'])}  {len(rows)} sample(s)", highlight=False)
    for r in rows:
        style = VERDICT_STYLE.get(r["verdict"], "default")
        answer = "—" if r["extracted"] is None else r["extracted"]
        head = (f"{r['task']} item {r['item_id']} sample {r['sample']}: [{style}]{r['verdict']}[/]  "
                f"answer {escape(str(answer))}  gold {escape(str(r['gold']))}")
        if r["finish"] not in (None, "stop"):
            head += f"  (finish: {escape(str(r['finish']))})"
        out.rule(style="dim")
        out.print(head, highlight=False)
        out.print(r["text"] if r["text"] is not None else "(text not stored)", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(samples)
