"""Scoring code generations from a file: verdict, program and failure details per line, and a
summary with pass@k for every k up to the samples per item and the behavioural maj@k.

Lines carry `item_id` (an item of a registered code task: `HumanEval/0`, MBPP's `11`) and `response`,
optionally `sample`. All lines of one item are graded together, so their vote classes are comparable.
A line may instead describe its own problem (`entry_point`, `tests`, optional `gold` reference
program and `prompt`): that is the generic `code` kind of `harness score`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from harness.data import Source
from harness.errors import DataError
from harness.records import VERDICTS, Grade, Item
from harness.vote import pass_at_k, vote
from harness.grading.code.grade import CodeGrader
from harness.grading.code.extract import example_calls


@dataclass(frozen=True, slots=True)
class CodeScore:
    lines: list[dict[str, Any]]  # each input line plus verdict, answer, extracted, detail, cls
    summary: dict[str, Any]


def code_item_from_row(row: Mapping[str, Any], item_id: str) -> Item:
    """An Item from a self-contained line: `entry_point` and `tests` required; `gold` (a reference
    program, for the time limit) and `prompt` (what a base model continued) optional."""
    missing = [k for k in ("entry_point", "tests") if not isinstance(row.get(k), str)]
    if missing:
        raise DataError(f"line for item {item_id}: a code line needs string field(s) {', '.join(missing)}")
    prompt = str(row.get("prompt") or "")
    entry = row["entry_point"]
    return Item(id=item_id, gold=str(row.get("gold") or ""), fields={
        "prompt_code": prompt, "preamble": prompt, "entry_point": entry, "tests": row["tests"],
        "examples": example_calls(prompt, entry),
    })


def code_grader(options: Mapping[str, Any]) -> CodeGrader:
    return CodeGrader(str(options.get("task") or "code"))


def summarize(items: Sequence[Item], grades: Sequence[Sequence[Grade]]) -> dict[str, Any]:
    """Verdict counts, pass@1 over all lines, mean pass@k per k up to the fewest samples per item,
    and maj@k (the behavioural vote) over items."""
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
        out["maj_at_k"] = sum(vote(row).correct for row in grades if row) / len(ns)
        out["samples_per_item"] = {"min": kmax, "max": max(ns)}
    return out


def summary_text(summary: Mapping[str, Any]) -> str:
    parts = ", ".join(f"{v} {n}" for v, n in summary["verdicts"].items())
    text = (f"scored {summary['lines']} lines over {summary['items']} items: accuracy "
            f"{100 * summary['accuracy']:.1f}% ({parts})")
    if "pass_at_k" in summary:
        ks = " ".join(f"pass@{k} {100 * v:.1f}%" for k, v in summary["pass_at_k"].items())
        text += f"; {ks}; maj@k (behaviour) {100 * summary['maj_at_k']:.1f}%"
    return text


def score_code_rows(rows: Sequence[Mapping[str, Any]], task_name: str, *, source: Source | None = None,
                    grader: CodeGrader | None = None, where: str = "input") -> CodeScore:
    """Grade lines of a registered code task (`humaneval`, `mbpp`, ...), grouped by item."""
    from harness.task import get_task

    task = get_task(task_name)
    if task.kind != "code":
        raise DataError(f"task {task_name!r} is a {task.kind} task, not a code task")
    items_by_id = {it.id: it for it in task.load(source or Source.resolve())}
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if not isinstance(row.get("response"), str):
            raise DataError(f"{where}:{i + 1}: needs a string `response`")
        item_id = str(row.get("item_id"))
        if item_id not in items_by_id:
            raise DataError(f"{where}:{i + 1}: needs an `item_id` of task {task_name!r}"
                            + (f" (no item {item_id!r})" if "item_id" in row else ""))
        groups.setdefault(item_id, []).append(i)
    own = grader is None
    grader = grader or task.grader()
    try:
        batch = [(items_by_id[iid], [rows[i]["response"] for i in idx]) for iid, idx in groups.items()]
        grades = grader.grade(batch)
    finally:
        if own:
            grader.close()
    lines: list[dict[str, Any] | None] = [None] * len(rows)
    for idx, row_grades in zip(groups.values(), grades):
        for i, g in zip(idx, row_grades):
            lines[i] = {**rows[i], "verdict": g.verdict, "answer": g.canonical, "extracted": g.extracted,
                        "detail": g.detail, "cls": g.cls}
    return CodeScore(lines=[ln for ln in lines if ln is not None],
                     summary=summarize([b[0] for b in batch], grades))
