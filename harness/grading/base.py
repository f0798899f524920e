"""What graders share: the Grader protocol (defined with the Task, in `harness.task`), a kind's
`Scorer` for lines made elsewhere, and vote classes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable, Mapping, Sequence

from harness.records import Item
from harness.task import Grader

__all__ = ["Grader", "Scorer", "classes_by_key"]


@dataclass(frozen=True)
class Scorer:
    """How a kind grades bare lines (`harness score`): the grader, given the command's options (and
    `task`, the task or kind named), and how a line with `gold` becomes an Item; `external_item`: how
    a task's own item reads for a line made elsewhere (e.g. without our choice permutations)."""

    grader: Callable[[Mapping[str, Any]], Grader]
    item_from_row: Callable[[Mapping[str, Any], str], Item]
    external_item: Callable[[Item], Item] | None = None


def classes_by_key(keys: Sequence[Hashable | None]) -> list[int | None]:
    """Class index per sample by equal key, numbered in order of first appearance; None stays None."""
    seen: dict[Hashable, int] = {}
    out: list[int | None] = []
    for key in keys:
        if key is None:
            out.append(None)
        else:
            out.append(seen.setdefault(key, len(seen)))
    return out
