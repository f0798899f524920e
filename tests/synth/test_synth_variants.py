"""Numeric variants of GSM8K-style items: golden items checked against their true formulas, skip
reasons, variants of variants, determinism, no Python evaluation, and the real GSM8K file."""

import builtins
import json
from fractions import Fraction

import pytest

from harness.records import Item
from harness.synth.graph import build, recompute
from harness.synth.variants import make_variants, summarize, variants_of
from synth_golden import GOLDEN, SKIPPED, numbers


@pytest.mark.parametrize("name,question,solution,truth", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_variants_match_the_true_formula(name, question, solution, truth):
    graph = build(question, solution)
    assert recompute(graph, graph.original_inputs())[graph.final] == graph.gold == truth(numbers(question))
    outcome = variants_of(name, question, solution, n=4, seed=0)
    assert outcome.skipped is None and outcome.original_reproduced
    assert len(outcome.variants) >= 2
    for v in outcome.variants:
        assert v.question != question
        assert v.gold == truth(numbers(v.question)), v.question
        assert Fraction(v.solution.rsplit("####", 1)[1].strip()) == v.gold
        if graph.gold.denominator == 1:
            assert v.gold.denominator == 1 and v.gold >= 0


@pytest.mark.parametrize("name,question,solution,truth", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_variant_of_a_variant_stays_valid(name, question, solution, truth):
    """A variant carries an annotated solution, so it can be varied again; the second generation
    still satisfies the true formula and reproduces its own gold."""
    first = variants_of(name, question, solution, n=3, seed=1)
    assert first.variants
    for j, v in enumerate(first.variants):
        second = variants_of(f"{name}/v{j}", v.question, v.solution, n=2, seed=2)
        assert second.original_reproduced is True
        for w in second.variants:
            assert w.gold == truth(numbers(w.question)), w.question


@pytest.mark.parametrize("name,question,solution,reason", SKIPPED, ids=[s[0] for s in SKIPPED])
def test_items_without_a_sound_graph_are_skipped_with_a_reason(name, question, solution, reason):
    outcome = variants_of(name, question, solution, n=2)
    assert outcome.variants == ()
    assert outcome.skipped == reason, outcome.detail


def test_same_seed_same_variants_and_ids_line_up_with_parents():
    parents = [Item(id=str(i), gold="", fields={"question": q, "answer": s}) for i, (_, q, s, _) in enumerate(GOLDEN)]
    a, outcomes = make_variants(parents, n=2, seed=7)
    b, _ = make_variants(list(reversed(parents)), n=2, seed=7)  # order does not matter: Random per item
    assert sorted((i.id, i.gold, i.fields["question"]) for i in a) == sorted((i.id, i.gold, i.fields["question"]) for i in b)
    c, _ = make_variants(parents, n=2, seed=8)
    assert [i.fields["question"] for i in a] != [i.fields["question"] for i in c]
    for item in a:
        parent, _, v = item.id.rpartition("/v")
        assert item.meta["parent"] == parent and v.isdigit() and item.meta["seed"] == 7
        assert item.meta["substitutions"]
    s = summarize(outcomes)
    assert s["items"] == len(GOLDEN) and s["items_with_variant"] == len(GOLDEN) and s["original_reproduced_rate"] == 1.0


def test_recomputation_never_evaluates_python(monkeypatch):
    """eval, exec, compile, sympify and parse_expr all explode; variants are still made, and a hostile
    annotation is refused as text."""
    import sympy
    import sympy.parsing.sympy_parser as sp

    def boom(*a, **k):
        raise AssertionError("Python evaluation attempted")

    for mod, name in ((builtins, "eval"), (builtins, "exec"), (builtins, "compile"), (sympy, "sympify"),
                      (sp, "parse_expr")):
        monkeypatch.setattr(mod, name, boom)
    for name, q, s, _ in GOLDEN:
        assert variants_of(name, q, s, n=2).variants
    for name, q, s, reason in SKIPPED:
        assert variants_of(name, q, s, n=2).skipped == reason


def test_real_gsm8k_yield_and_reproduction(shared_data):
    """Measured on the first 300 GSM8K test items (the full file: see the README numbers)."""
    rows = [json.loads(line) for line in open(shared_data / "gsm8k_test.jsonl", encoding="utf-8")][:300]
    parents = [Item(id=str(i), gold="", fields={"question": r["question"], "answer": r["answer"]})
               for i, r in enumerate(rows)]
    items, outcomes = make_variants(parents, n=1, seed=0)
    s = summarize(outcomes)
    assert s["original_reproduced_rate"] > 0.7
    assert s["items_with_variant_rate"] > 0.5
    # Every graph that was built reproduces its gold: the annotations recompute exactly.
    assert s["graphs_built"] == s["original_reproduced"]
    # Second generation: every first-generation variant reproduces as a parent.
    for item in items[:60]:
        assert variants_of(item.id, item.fields["question"], item.fields["answer"], n=1).original_reproduced
