"""Code lines made elsewhere, for `harness score`: a line may describe its own problem (`entry_point`,
`tests`, optional `gold` reference program and `prompt`): that is the generic `code` kind."""

from __future__ import annotations

from typing import Any, Mapping

from harness.errors import DataError
from harness.grading.base import Scorer
from harness.records import Item
from harness.grading.code.grade import CodeGrader
from harness.grading.code.extract import example_calls


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


SCORER = Scorer(grader=code_grader, item_from_row=code_item_from_row)
