"""The grader protocol shared by math, multiple choice and code."""

from __future__ import annotations

from typing import Hashable, Protocol, Sequence

from harness.records import Grade, Item


class Grader(Protocol):
    """Grades every sample of a batch of items at once, so a grader can amortize work (a process
    pool, a sandbox pool) over the batch. Returns, per item, one Grade per response, in order; the
    `cls` fields group equivalent answers within an item for the majority vote."""

    def grade(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[Grade]]: ...

    def close(self) -> None: ...


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
