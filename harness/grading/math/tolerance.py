"""Grading numeric forms that carry a tolerance and a unit (`meta.rel_tol`, `meta.unit`).

Multiple-choice answers are rounded (`0.242 m`), so an exact check would fail a model that computes
0.2425; each converted item records the tolerance that still separates its distractors. This grader
hands each item to a `MathGrader` with that item's `rel_tol` (one grader per distinct tolerance), after
dropping the item's unit from the responses (`550 nm` -> `550`: `nm` would otherwise read as n*m).
"""

from __future__ import annotations

import re
from typing import Sequence

from harness.grading.math import MathGrader, MathOptions
from harness.records import Grade, Item


def strip_unit(text: str, unit: str) -> str:
    """`... 550 nm.` -> `... 550.` for the item's unit (only right after a number)."""
    if not unit:
        return text
    return re.sub(r"(\d)\s*" + re.escape(unit) + r"(?![A-Za-z0-9/^·])", r"\1", text)


class ToleranceGrader:
    """The Grader protocol over MathGraders keyed by tolerance; items without `rel_tol` are exact."""

    def __init__(self, options: MathOptions | None = None) -> None:
        self.options = options or MathOptions()  # conventions; each item's rel_tol replaces the tolerance
        self._graders: dict[float, MathGrader] = {}

    def _grader(self, rel_tol: float) -> MathGrader:
        if rel_tol not in self._graders:
            self._graders[rel_tol] = MathGrader(self.options, rel_tol=rel_tol)
        return self._graders[rel_tol]

    def grade(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[Grade]]:
        out: list[list[Grade] | None] = [None] * len(batch)
        by_tol: dict[float, list[int]] = {}
        for i, (item, _) in enumerate(batch):
            by_tol.setdefault(float(item.meta.get("rel_tol") or 0.0), []).append(i)
        for tol, idx in by_tol.items():
            sub = [(batch[i][0], [strip_unit(r, str(batch[i][0].meta.get("unit") or "")) for r in batch[i][1]])
                   for i in idx]
            for i, grades in zip(idx, self._grader(tol).grade(sub)):
                out[i] = grades
        return [g for g in out if g is not None]

    def close(self) -> None:
        for g in self._graders.values():
            g.close()
        self._graders.clear()
