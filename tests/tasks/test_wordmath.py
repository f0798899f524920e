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


def test_drills_restate_every_calculation_and_the_gold():
    from harness.tasks.wordmath import drill_of

    items = make_items("eval")
    drills = [drill_of(item) for item in items]
    grades = MathGrader().grade([(i, [c]) for i, (_, c) in zip(items, drills)])
    assert all(g.verdict == "correct" for (g,) in grades)
    for item, (prompt, completion) in zip(items, drills):
        assert prompt.startswith("Question: Compute: ") and prompt.endswith(".\nAnswer:")
        assert item.fields["question"] not in prompt  # the story is gone
        assert completion.endswith(f" The answer is {item.gold}.")
        assert completion.count(" = ") == item.meta["steps"]


def test_a_skipped_template_is_drilled_but_never_read_as_a_word_problem():
    from harness.training.base import examples

    full, small = examples(400), examples(400, skip=(5, 6))
    drills = [p for p, _ in full if p.startswith("Question: Compute:")]
    assert 0.2 < len(drills) / len(full) < 0.4
    assert drills == [p for p, _ in small if p.startswith("Question: Compute:")]  # the same drills
    assert any("Every day" in p for p, _ in full) and not any("Every day" in p for p, _ in small)
    assert any("then" in p and p.count(",") == 2 for p in drills)  # three-step drills (template 6) stay
