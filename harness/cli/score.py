"""`harness score --task TASK IN.jsonl [--out OUT.jsonl]`: grade generations made by anything.

Each input line has `response` and either `gold` (the reference answer) or `item_id` (an item of the
task, whose gold is looked up); code lines carry their tests instead (see harness/grading/code/score.py). Each output line is the input line plus `verdict` (correct, incorrect,
unparseable, timeout), `answer` (the canonical answer, or null) and `extracted`; a summary goes to
stderr. Without `--out` the lines go to stdout.

`--task` is a registered task (`math500`, `gsm8k`, ...: its own grader and items) or a generic kind
(`math`: the math grader, where `gold` is a bare answer or a full solution; `choice`; `code`).
The grader is found through the task's kind: its grading package's `Scorer`
(`harness.grading.scorer`: a grader factory taking the command's options, and how a line becomes an
Item); a new kind is a grading package with a `score` module.

Lines are graded in chunks of consecutive lines, so a grader with a worker pool pays few round trips.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Iterable, Mapping, Optional, Sequence, TextIO

import typer

from harness.cli.common import (ConventionsOpt, DecimalCommaOpt, DecimalsOpt, ListOrderOpt, PercentOpt, ToleranceOpt,
                                math_options)
from harness.data import Source, read_jsonl
from harness.errors import DataError, HarnessError, UnknownTask
from harness.grading import kinds
from harness.grading import scorer as find_scorer
from harness.records import VERDICTS, Grade, Item
from harness.vote import pass_at_k, vote

CHUNK = 256  # lines per grader call


def _resolve(task_name: str) -> tuple[str, Any]:
    """(kind, Task or None): a generic kind name first, else a registered task."""
    if task_name in kinds():
        return task_name, None
    from harness.tasks import get_task

    try:
        task = get_task(task_name)
    except UnknownTask as exc:
        raise UnknownTask(f"{exc}; or a generic kind: {', '.join(kinds())}") from None
    return task.kind, task


def score_rows(
    rows: Sequence[Mapping[str, Any]],
    task_name: str,
    *,
    source: Source | None = None,
    options: Mapping[str, Any] | None = None,
    where: str = "input",
) -> list[Grade]:
    """One Grade per row, in order. Rows need `response` and `gold` or `item_id` (item_id needs a
    registered task). Raises DataError naming the line of a malformed row."""
    kind, task = _resolve(task_name)
    options = dict(options or {})
    scorer = find_scorer(kind)
    items_by_id: dict[str, Item] | None = None
    if task is not None and any("item_id" in r and "gold" not in r for r in rows):
        items_by_id = {it.id: it for it in task.load_items(source or Source.resolve())}
    items: list[Item] = []
    for i, row in enumerate(rows):
        if "response" not in row or not isinstance(row["response"], str):
            raise DataError(f"{where}:{i + 1}: needs a string `response`")
        if task is not None and "gold" not in row:
            item_id = str(row.get("item_id"))
            if "item_id" not in row or items_by_id is None or item_id not in items_by_id:
                raise DataError(f"{where}:{i + 1}: needs `gold` or an `item_id` of task {task_name!r}"
                                + (f" (no item {item_id!r})" if "item_id" in row else ""))
            item = items_by_id[item_id]
            items.append(scorer.external_item(item) if scorer is not None and scorer.external_item else item)
            continue
        if scorer is None:
            raise HarnessError(f"no scorer for task kind {kind!r}; known kinds: {', '.join(kinds())}")
        try:
            items.append(scorer.item_from_row(row, str(row.get("item_id", i))))
        except (DataError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{where}:{i + 1}: {exc}") from None
    if scorer is not None:
        # The kind's grader, not the task's: lines made elsewhere follow no prompt variants of ours
        # (choice permutations), and this one honours the command's options.
        grader = scorer.grader({**options, "task": task_name})
    elif task is not None:
        grader = task.grader()
    else:  # pragma: no cover - _resolve only returns kinds with a scorer when task is None
        raise HarnessError(f"no scorer for {task_name!r}")
    # Lines of one item (same `item_id` and gold) are graded together, so their vote classes are
    # comparable (equivalent answers, or behaviour for code) and pass@k and maj@k can be summarized.
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (row, item) in enumerate(zip(rows, items)):
        same = json.dumps([item.id, item.gold, item.fields, item.meta], sort_keys=True, default=str)
        key = (f"id:{row['item_id']}" if "item_id" in row else f"row:{i}", same)
        groups.setdefault(key, []).append(i)
    grades: list[Grade | None] = [None] * len(rows)
    members = list(groups.values())
    try:
        for start in range(0, len(members), CHUNK):
            chunk = members[start:start + CHUNK]
            batch = [(items[idx[0]], [rows[i]["response"] for i in idx]) for idx in chunk]
            for idx, item_grades in zip(chunk, grader.grade(batch)):
                for i, g in zip(idx, item_grades):
                    grades[i] = g
    finally:
        grader.close()
    return [g for g in grades if g is not None]


def grouped(rows: Sequence[Mapping[str, Any]], grades: Sequence[Grade]) -> list[list[Grade]]:
    """Grades per item (lines without `item_id` are items of their own), for `summarize`."""
    by: dict[str, list[Grade]] = {}
    for i, (row, g) in enumerate(zip(rows, grades)):
        by.setdefault(f"id:{row['item_id']}" if "item_id" in row else f"row:{i}", []).append(g)
    return list(by.values())


def write_scored(rows: Iterable[Mapping[str, Any]], grades: Iterable[Grade], out: TextIO) -> None:
    for row, grade in zip(rows, grades):
        line = dict(row)
        line["verdict"] = grade.verdict
        line["answer"] = grade.canonical
        line["extracted"] = grade.extracted
        line["detail"] = grade.detail  # why: the failed assertion, the crash, the timeout
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


def summarize(grades: Sequence[Sequence[Grade]]) -> dict[str, Any]:
    """Verdict counts, pass@1 over all lines, mean pass@k per k up to the fewest samples per item,
    and maj@k (the vote over each item's samples: equivalent answers, or behaviour for code) over items."""
    flat = [g for row in grades for g in row]
    counts = Counter(g.verdict for g in flat)
    ns = [len(row) for row in grades if row]
    out: dict[str, Any] = {
        "lines": len(flat),
        "items": len(ns),
        "verdicts": {v: counts[v] for v in VERDICTS},
        "accuracy": counts["correct"] / len(flat) if flat else 0.0,
    }
    if ns:
        kmax = min(ns)
        out["pass_at_k"] = {
            k: sum(pass_at_k(len(row), sum(g.verdict == "correct" for g in row), k) for row in grades if row) / len(ns)
            for k in range(1, kmax + 1)
        }
        out["maj_at_k"] = sum(vote(row).maj_correct for row in grades if row) / len(ns)
        out["samples_per_item"] = {"min": kmax, "max": max(ns)}
    # Code: how many items were checked by split tests (outside the program) rather than replayed.
    checked = [row[0].detail for row in grades if row and row[0].detail and "| check: " in row[0].detail]
    if checked:
        out["split_items"] = {"split": sum("| check: split" in d for d in checked), "items": len(checked)}
    return out


def summary_text(summary: Mapping[str, Any]) -> str:
    parts = ", ".join(f"{v} {n}" for v, n in summary["verdicts"].items())
    text = (f"scored {summary['lines']} lines over {summary['items']} items: accuracy "
            f"{100 * summary['accuracy']:.1f}% ({parts})")
    if "pass_at_k" in summary:
        ks = " ".join(f"pass@{k} {100 * v:.1f}%" for k, v in summary["pass_at_k"].items())
        text += f"; {ks}; maj@k (behaviour) {100 * summary['maj_at_k']:.1f}%"
    if "split_items" in summary:
        sp = summary["split_items"]
        text += f"; checked by split tests: {sp['split']}/{sp['items']} items"
    return text


def score_command(
    infile: Annotated[Path, typer.Argument(metavar="IN.jsonl", help="lines with `response` and `gold` or `item_id`")],
    task: Annotated[str, typer.Option("--task", "-t", help="a task name (math500, gsm8k, ...) or a generic kind (math)")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="write scored lines here (default: stdout)")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="local benchmark files, for `item_id` lookups")] = None,
    conventions: ConventionsOpt = None,
    percent: PercentOpt = None,
    decimals: DecimalsOpt = None,
    decimal_comma: DecimalCommaOpt = None,
    list_order: ListOrderOpt = None,
    tolerance: ToleranceOpt = None,
    timeout: Annotated[float, typer.Option("--timeout", help="math: seconds per symbolic check before 'timeout'")] = 5.0,
) -> None:
    """Score generations made by anything: verdict and canonical answer per line, summary on stderr."""
    opts = math_options(conventions, percent=percent, decimals=decimals, decimal_comma=decimal_comma,
                        list_order=list_order, tolerance=tolerance)
    try:
        rows = list(read_jsonl(infile))
        grades = score_rows(rows, task, source=Source.resolve(data_dir), options={**opts.__dict__, "timeout_s": timeout},
                            where=str(infile))
    except HarnessError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if out is None:
        write_scored(rows, grades, sys.stdout)
    else:
        with open(out, "w", encoding="utf-8") as fh:
            write_scored(rows, grades, fh)
    text = summary_text(summarize(grouped(rows, grades)))
    if _resolve(task)[0] == "math":
        from harness.grading.math.conventions import describe

        text += f"; conventions {describe(opts)}"
    typer.echo(text, err=True)


def register(app: typer.Typer) -> None:
    app.command("score")(score_command)
