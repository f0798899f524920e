"""Synthesized items as JSONL: one object per line with `id`, `question`, `gold`, optional `answer`
(a worked solution) and `meta`. `tasks/synth_local.py` loads these files back as Items.
`write_atomic` is the project's one way to replace a file whole (exports, pairs, models files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.errors import DataError
from harness.records import Item

REQUIRED = ("id", "question", "gold")


def item_to_row(item: Item) -> dict[str, Any]:
    row: dict[str, Any] = {"id": item.id, "question": item.fields["question"], "gold": item.gold}
    if "answer" in item.fields:
        row["answer"] = item.fields["answer"]
    row["meta"] = dict(item.meta)
    return row


def row_to_item(row: Mapping[str, Any], where: str) -> Item:
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise DataError(f"{where}: missing field(s) {', '.join(missing)}; a synthesized item has "
                        f"{', '.join(REQUIRED)} (and optional answer, meta)")
    fields = {"question": str(row["question"])}
    if row.get("answer") is not None:
        fields["answer"] = str(row["answer"])
    return Item(id=str(row["id"]), gold=str(row["gold"]), fields=fields, meta=dict(row.get("meta") or {}))


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temp file renamed over it: a reader or a crash sees the old
    file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_items(path: Path, items: Iterable[Item]) -> int:
    """Write items (atomically: a temp file renamed over the target); returns how many."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item_to_row(item), ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n
