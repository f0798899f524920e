"""What graders share: the Grader protocol (defined with the Task, in `harness.task`) and vote classes."""

from __future__ import annotations

from typing import Hashable, Sequence

from harness.task import Grader

__all__ = ["Grader", "classes_by_key"]


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
