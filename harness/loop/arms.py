"""What each arm selects from the selection pool, over the model's per-item results there.

- `teachable`: DESIGN decision 7 (majority wrong; own pass rate inside the band, or the teacher
  solves it reliably), all of them, or `size` drawn at random.
- `random`: `size` items drawn uniformly from the whole pool (the control: same size, same pool).
- `all-failed`: `size` of the items whose majority answer is wrong, whatever their pass rate.
- `easy`: `size` of the items the model already solves by majority.
Every arm that draws uses its own seeded `random.Random`, never the global one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.analysis.teach import solved, teachable
from harness.models import ModelSpec
from harness.records import stable_hash


@dataclass(frozen=True)
class Arm:
    """One trained arm at one seed and phase: its model, what it started from, and its data."""

    phase: int
    arm: str
    seed: int
    spec: ModelSpec  # the fine-tuned model
    start: ModelSpec  # what it was tuned from
    export: Path
    train: Path
    n_picked: int
    sources: dict[str, int]
    examples: int
    sft: dict[str, Any]


def _draw(ids: Sequence[str], n: int, seed: int, arm: str, phase: int) -> list[str]:
    rng = random.Random(int(stable_hash([arm, phase, seed], 12), 16))
    pool = sorted(ids, key=item_order)
    if n >= len(pool):
        return pool
    return sorted(rng.sample(pool, n), key=item_order)


def item_order(item_id: str) -> tuple[int, int | str]:
    """The loop's one order of item ids: numeric ids by value, then the rest as text."""
    return (0, int(item_id)) if item_id.isdigit() else (1, item_id)


def select(arm: str, own: Sequence[Mapping[str, Any]], teacher: Sequence[Mapping[str, Any]] | None, *,
           size: int | None, seed: int, phase: int, band: tuple[float, float], min_teacher_rate: float
           ) -> list[tuple[str, str]]:
    """(item id, reason) picked by `arm`. `size` None means as many as the teachable rule finds."""
    found = teachable(own, teacher, min_teacher_rate, band)
    n = len(found) if size is None else size
    if arm == "teachable":
        reason = {x.item_id: x.reason for x in found}
        ids = list(reason) if size is None else _draw(list(reason), n, seed, arm, phase)
        return [(i, reason[i]) for i in sorted(ids, key=item_order)]
    if arm == "random":
        return [(i, "random") for i in _draw([str(r["item_id"]) for r in own], n, seed, arm, phase)]
    if arm == "all-failed":
        return [(i, "failed") for i in _draw([str(r["item_id"]) for r in own if not solved(r)], n, seed, arm, phase)]
    if arm == "easy":
        return [(i, "easy") for i in _draw([str(r["item_id"]) for r in own if solved(r)], n, seed, arm, phase)]
    raise ValueError(f"unknown arm {arm!r}")
