"""Multiple-choice lines made elsewhere, for `harness score`: `gold` is a letter as the response saw
the options (see `item_from_line`)."""

from __future__ import annotations

from typing import Any, Mapping

from harness.grading.base import Scorer
from harness.records import Item


def choice_grader(options: Mapping[str, Any]) -> Any:
    from harness.grading.choice.grade import ChoiceGrader

    return ChoiceGrader()


def choice_item(row: Mapping[str, Any], item_id: str) -> Item:
    from harness.grading.choice.grade import item_from_line

    return item_from_line(row, item_id)


def choice_external(item: Item) -> Item:
    """Lines made elsewhere saw the options in the dataset's order: drop the task's permutations."""
    meta = {k: v for k, v in item.meta.items() if k not in ("perms", "shuffle", "shuffle_seed")}
    return Item(id=item.id, gold=item.gold, fields=item.fields, meta=meta)


SCORER = Scorer(grader=choice_grader, item_from_row=choice_item, external_item=choice_external)
