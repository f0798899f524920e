"""`harness samples --run RUN`: every stored sample of a run with its extracted answer and verdict
(what lm-eval writes to samples_*.jsonl and Inspect keeps in its log), as a list or as JSONL.

A reasoning model's thinking (the server's separate field and any inline section, split with the
model's delimiters as grading split it) is folded to its length in the list, after which the final
answer is printed (`--thinking` prints the thinking in full); JSONL carries it whole in `thinking`,
with `thinking_tokens`, beside `text`, the completion as generated. A sample whose thinking budget
forcing closed (the closing tag is the harness's, not the model's) says so in its heading; JSONL has
`forced`."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.markup import escape

from harness.cli.common import DbOpt, close_matches, existing_store, out
from harness.errors import HarnessError
from harness.thinking import recorded_format, split

FORMATS = ("table", "jsonl")
VERDICT_STYLE = {"correct": "green", "incorrect": "red", "unparseable": "yellow", "timeout": "magenta",
                 "unfinished": "cyan"}


def samples(
    run: Annotated[str, typer.Option("--run", "-r", help="run id (see `harness runs`)")],
    task: Annotated[Optional[str], typer.Option("--task", "-t", help="only this task of the run")] = None,
    item: Annotated[Optional[str], typer.Option("--item", "-i", help="only this item id")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table (one block per sample, full text) or jsonl")] = "table",
    as_json: Annotated[bool, typer.Option("--json", help="same as --format jsonl")] = False,
    thinking: Annotated[bool, typer.Option(
        "--thinking", help="table: print each sample's thinking in full, not only its length")] = False,
    db: DbOpt = None,
) -> None:
    """Print every sample of a run: task, item, sample index, verdict, extracted answer against the
    gold answer, and the full completion text; a reasoning model's thinking is folded to its length
    in the table (in full with --thinking, and always in jsonl's `thinking` field)."""
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
    think_fmt = recorded_format(store.run_model_spec(run))
    parts = [None if r["text"] is None else split(r["text"], r["finish"] or "stop", r["thinking"], think_fmt)
             for r in rows]
    if as_json or fmt == "jsonl":
        for r, p in zip(rows, parts):
            line = {"run_id": run, "model": meta["model_name"], **r, "thinking": p.thinking if p else r["thinking"]}
            print(json.dumps(line, ensure_ascii=False, default=str))
        return
    out.print(f"[bold]run {escape(run)}[/]  model {escape(meta['model_name'])}  {len(rows)} sample(s)", highlight=False)
    for r, p in zip(rows, parts):
        style = VERDICT_STYLE.get(r["verdict"], "default")
        answer = "—" if r["extracted"] is None else r["extracted"]
        head = (f"{r['task']} item {r['item_id']} sample {r['sample']}: [{style}]{r['verdict']}[/]  "
                f"answer {escape(str(answer))}  gold {escape(str(r['gold']))}")
        if r["finish"] not in (None, "stop"):
            head += f"  (finish: {escape(str(r['finish']))})"
        if r["forced"]:
            head += "  (forced: thinking closed at its budget)"
        out.rule(style="dim")
        out.print(head, highlight=False)
        if p is None or p.thinking is None:
            out.print(r["text"] if r["text"] is not None else "(text not stored)", markup=False, highlight=False)
            continue
        tokens = "" if r["thinking_tokens"] is None else f", {r['thinking_tokens']:,} tokens"
        closed = "never closed" if p.unfinished else ("closed at the budget" if r["forced"] else "closed")
        out.print(f"thinking: {len(p.thinking):,} chars{tokens}, {closed}", style="dim", highlight=False)
        if thinking:
            out.print(p.thinking, markup=False, highlight=False, style="dim")
            out.print("answer:", style="dim", highlight=False)
        answer_text = "" if p.unfinished else p.answer.strip()  # what the grader saw
        out.print(answer_text or "(no answer)", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(samples)
