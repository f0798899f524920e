"""The demo's curriculum (`wordmath`): held-out values and template, synth variants, answer format."""

from __future__ import annotations

from collections import Counter

from harness.synth.variants import make_variants
from harness.tasks.wordmath import (
    HELD_OUT_TEMPLATES,
    N_EVAL,
    TEMPLATES,
    completion_of,
    make_items,
)

from harness.grading.math import MathGrader


def _key(item):
    return item.fields["question"]


def test_eval_set_is_stable_and_covers_every_template():
    a, b = make_items("eval"), make_items("eval")
    assert [(i.id, i.gold, _key(i)) for i in a] == [(i.id, i.gold, _key(i)) for i in b]
    assert len(a) == N_EVAL
    assert set(Counter(i.meta["template"] for i in a)) == set(range(len(TEMPLATES)))
    assert {i.meta["steps"] for i in a} == {1, 2, 3}


def test_training_never_sees_eval_questions_or_the_held_out_template():
    train = make_items("train", 3000)
    assert not {i.meta["template"] for i in train} & HELD_OUT_TEMPLATES
    assert not {_key(i) for i in train} & {_key(i) for i in make_items("eval")}


def test_worked_solutions_are_in_the_prompted_format_and_graded_correct():
    items = make_items("eval")[:40]
    texts = [completion_of(i.fields["answer"]) for i in items]
    assert all(t.endswith(f"The answer is {i.gold}.") and "<<" not in t for t, i in zip(texts, items))
    grades = MathGrader().grade([(i, [t]) for i, t in zip(items, texts)])
    assert all(g[0].verdict == "correct" for g in grades)


def test_synth_makes_numeric_variants_of_every_template():
    items = make_items("eval")[:80]
    variants, outcomes = make_variants(items, n=2, seed=0)
    assert all(o.original_reproduced for o in outcomes)
    parents = {v.meta["parent"] for v in variants}
    by_template = {i.meta["template"] for i in items if i.id in parents}
    assert by_template == set(range(len(TEMPLATES)))
    assert len(variants) >= 120
    # a variant is a new question with a recomputed gold, still in the curriculum's answer format
    originals = {i.id: i for i in items}
    for v in variants[:20]:
        assert v.fields["question"] != originals[v.meta["parent"]].fields["question"]
        assert completion_of(v.fields["answer"]).endswith(f"The answer is {v.gold}.")
