"""A phase's two pools: the selection pool (what arms choose from) and the test pool (what every arm
and the base are measured on). The test pool is fixed before anything is selected and never feeds
selection, augmentation or training: `check_disjoint` proves it for the files the arms trained on."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from harness.data import Source
from harness.errors import HarnessError
from harness.loop.config import Phase
from harness.records import Item
from harness.task import Task


@dataclass(frozen=True)
class Pools:
    selection_task: Task
    selection: tuple[Item, ...]
    test_task: Task
    test: tuple[Item, ...]
    source: Source  # where the items were read from (data folder)

    @property
    def selection_ids(self) -> frozenset[str]:
        return frozenset(it.id for it in self.selection)

    @property
    def test_ids(self) -> frozenset[str]:
        return frozenset(it.id for it in self.test)


def split(items: Sequence[Item], test_size: int, seed: int,
          selection_size: int | None = None) -> tuple[list[Item], list[Item]]:
    """A seeded split: `test_size` items for the test pool, the rest (or the next `selection_size` of
    the same shuffle) for selection; each pool keeps the task's order. Items asking the same question (a generated set, or a benchmark's duplicates)
    never straddle the split: a selection item that repeats a test question is left out of both."""
    if not 0 < test_size < len(items):
        raise HarnessError(f"test_size {test_size} must leave items for selection: the task has {len(items)}")
    ids = [it.id for it in items]
    random.Random(seed).shuffle(ids)
    test = set(ids[:test_size])
    asked = {_question(it) for it in items if it.id in test} - {None}
    chosen = set(ids[test_size:] if selection_size is None else ids[test_size:test_size + selection_size])
    selection = [it for it in items if it.id in chosen and _question(it) not in asked]
    if not selection:
        raise HarnessError("every selection item repeats a test question: nothing left to select from")
    return selection, [it for it in items if it.id in test]


def _question(it: Item) -> str | None:
    q = it.fields.get("question")
    return q.strip() if isinstance(q, str) else None


def make_pools(phase: Phase, get_task: Callable[[str], Task]) -> Pools:
    source = Source.resolve(phase.data_dir, None)
    if phase.task is not None:
        task = get_task(phase.task).configure(phase.task_args)
        selection, test = split(task.load_items(source), int(phase.test_size or 0), phase.split_seed,
                                phase.selection_size)
        return Pools(task, tuple(selection), task, tuple(test), source)
    sel_task = get_task(str(phase.selection_task)).configure(phase.task_args)
    test_task = get_task(str(phase.test_task))
    selection, test = sel_task.load_items(source), test_task.load_items(source)
    if sel_task.name == test_task.name:
        shared = {it.id for it in selection} & {it.id for it in test}
        if shared:
            raise HarnessError(f"selection and test pools share {len(shared)} item(s) of {sel_task.name}")
    same = {_question(it) for it in selection} & {_question(it) for it in test} - {None}
    if same:
        raise HarnessError(f"{len(same)} question(s) of {sel_task.name} also occur in the test task {test_task.name}: "
                           "the test pool must be new to every arm")
    return Pools(sel_task, tuple(selection), test_task, tuple(test), source)


def check_disjoint(trained: Iterable[tuple[str, str]], questions: Iterable[str], pools: Sequence[Pools]) -> int:
    """Raise if any arm's training data names a test-pool item (by task and id, a variant's parent
    included) or repeats a test-pool question; returns how many test items were checked."""
    trained = set(trained)
    asked = {q.strip() for q in questions}
    n = 0
    for p in pools:
        for it in p.test:
            n += 1
            if (p.test_task.name, it.id) in trained:
                raise HarnessError(f"test item {p.test_task.name}/{it.id} is in an arm's training data: the measurement "
                                   "would not be arm-neutral")
            if _question(it) in asked:
                raise HarnessError(f"the question of test item {p.test_task.name}/{it.id} is in an arm's training data")
    return n
