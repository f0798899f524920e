"""Pools: a seeded split that never overlaps, tasks that share an item refused, and the check that
no training file names or asks a test item."""

from __future__ import annotations

import pytest

from harness.errors import HarnessError
from harness.loop.config import Phase
from harness.loop.pools import check_disjoint, make_pools, split
from harness.records import Item
from harness.tasks import get_task


def items(n):
    return [Item(id=str(i), gold="1", fields={"question": f"q{i}"}) for i in range(n)]


def test_split_is_seeded_disjoint_and_keeps_order():
    sel, test = split(items(50), 20, seed=3)
    assert len(test) == 20 and len(sel) == 30
    assert not {i.id for i in sel} & {i.id for i in test}
    assert [i.id for i in test] == sorted((i.id for i in test), key=int)
    assert split(items(50), 20, seed=3) == (sel, test)
    assert split(items(50), 20, seed=4)[1] != test


def test_selection_size_bounds_the_selection_pool_and_leaves_the_test_pool_alone():
    sel, test = split(items(500), 40, seed=3, selection_size=25)
    assert len(test) == 40 and len(sel) == 25 and not {i.id for i in sel} & {i.id for i in test}
    assert split(items(500), 40, seed=3)[1] == test  # the same test pool with or without it
    assert {i.id for i in sel} < {i.id for i in split(items(500), 40, seed=3)[0]}
    assert len(split(items(50), 40, seed=3, selection_size=25)[0]) == 10  # no more than there is


@pytest.mark.parametrize("size", [0, 50, 60])
def test_split_leaves_items_on_both_sides(size):
    with pytest.raises(HarnessError, match="must leave items"):
        split(items(50), size, seed=0)


def test_make_pools_from_a_task_with_options():
    pools = make_pools(Phase(task="wordmath", task_args={"n": 120}, test_size=40), get_task)
    assert len(pools.test) == 40 and len(pools.selection) == 80
    assert pools.selection_task.args == {"n": 120}


def test_two_tasks_with_the_same_items_are_refused():
    with pytest.raises(HarnessError, match="share"):
        make_pools(Phase(selection_task="wordmath", test_task="wordmath"), get_task)


def test_check_disjoint_names_the_leak():
    pools = make_pools(Phase(task="wordmath", task_args={"n": 60}, test_size=20), get_task)
    test_item = pools.test[0]
    assert check_disjoint({("wordmath", pools.selection[0].id)}, {"something else"}, [pools]) == 20
    with pytest.raises(HarnessError, match=f"wordmath/{test_item.id} is in an arm's training data"):
        check_disjoint({("wordmath", test_item.id)}, set(), [pools])
    with pytest.raises(HarnessError, match="question of test item"):
        check_disjoint(set(), {test_item.fields["question"]}, [pools])


def test_a_question_asked_twice_never_straddles_the_split():
    twice = items(40) + [Item(id=str(40 + i), gold="1", fields={"question": f"q{i}"}) for i in range(40)]
    sel, test = split(twice, 30, seed=1)
    asked = {i.fields["question"] for i in test}
    assert len(test) == 30 and not asked & {i.fields["question"] for i in sel}
    assert len(sel) < 50  # the repeats of test questions left the selection pool


def test_wordmath_repeats_questions_and_the_split_keeps_them_apart():
    pools = make_pools(Phase(task="wordmath", task_args={"n": 600}, test_size=240), get_task)
    asked = {i.fields["question"] for i in pools.test}
    assert not asked & {i.fields["question"] for i in pools.selection}
    assert len(pools.selection) < 360  # generated items do repeat (few numbers per template)
