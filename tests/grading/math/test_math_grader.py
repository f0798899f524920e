"""MathGrader behaviour beyond single verdicts: vote classes of equivalent answers, the tie rule,
maj@k from n > k samples, batching and caching, the fast path, options, and round-trip properties."""

from __future__ import annotations

import random
from fractions import Fraction
from itertools import combinations

import pytest

from harness.grading.math import MathGrader
from harness.grading.math.normalize import clean_answer
from harness.grading.math.parse import parse_answer
from harness.records import Grade, Item
from harness.vote import maj_at_k, vote


@pytest.fixture(scope="module")
def grader():
    with MathGrader(timeout_s=10) as g:
        yield g


def test_equivalent_answers_share_a_vote_class(grader):
    responses = ["\\boxed{1/2}", "0.5", "\\boxed{\\frac{1}{2}}", "\\boxed{\\dfrac{2}{4}}", "\\boxed{3}",
                 "\\boxed{\\sqrt{9}}", "\\boxed{50\\%}", "nothing here at all, sorry"]
    grades = grader.grade([(Item("x", "\\frac12"), responses)])[0]
    assert [g.verdict for g in grades[:4]] == ["correct"] * 4
    assert len({g.cls for g in grades[:4]}) == 1
    assert grades[4].cls == grades[5].cls != grades[0].cls  # 3 and sqrt(9)
    assert grades[6].verdict == "incorrect" and grades[6].cls not in (grades[0].cls, grades[4].cls)
    assert grades[7].verdict == "unparseable" and grades[7].cls is None
    v = vote(grades)
    assert v.maj_correct and v.share == 4 / 8 and v.winner == 0


def test_symbolic_classes(grader):
    responses = ["\\boxed{x^2+2x+1}", "\\boxed{(x+1)^2}", "\\boxed{(1+x)(x+1)}", "\\boxed{x^2+1}"]
    grades = grader.grade([(Item("y", "(x+1)^2"), responses)])[0]
    assert [g.cls for g in grades] == [0, 0, 0, 1]


def test_tie_rule_is_earliest_first_member(grader):
    grades = grader.grade([(Item("t", "5"), ["\\boxed{4}", "\\boxed{5}", "\\boxed{5.0}", "\\boxed{4.00}"])])[0]
    v = vote(grades)
    assert v.share == v.share and v.margin == 0.0
    assert v.winner == 0 and not v.maj_correct  # 4 and 5 tie 2-2; 4 appeared first


def _grades(cls_correct):
    return [Grade(None, None, "correct" if ok else ("incorrect" if c is not None else "unparseable"), c)
            for c, ok in cls_correct]


def _brute(grades, k):
    n = len(grades)
    subsets = list(combinations(range(n), k))
    hits = 0
    for s in subsets:
        hits += vote([grades[i] for i in s]).maj_correct
    return hits / len(subsets)


def test_maj_at_k_exact_matches_brute_force():
    rng = random.Random(7)
    for _ in range(20):
        n = rng.randint(3, 9)
        cls = [rng.choice([0, 1, 2, None]) for _ in range(n)]
        grades = _grades([(c, c == 0) for c in cls])
        for k in range(1, n + 1):
            assert maj_at_k(grades, k) == pytest.approx(_brute(grades, k))


def test_maj_at_k_sampled_is_reproducible_and_close():
    grades = _grades([(0, True)] * 20 + [(1, False)] * 12)  # n=32, k=8: C(32,8) is far above the exact limit
    a = maj_at_k(grades, 8, seed=1)
    assert a == maj_at_k(grades, 8, seed=1)
    # exact: class 0 (all earlier indices) wins unless it gets fewer than 4 of the 8 draws (ties go to it)
    from math import comb

    exact = sum(comb(20, j) * comb(12, 8 - j) for j in range(4, 9)) / comb(32, 8)
    assert a == pytest.approx(exact, abs=0.05)
    assert maj_at_k(grades, 32) == 1.0
    assert maj_at_k(_grades([(0, False)] * 4), 2) == 0.0
    with pytest.raises(ValueError):
        maj_at_k(grades, 33)


def test_batches_use_few_round_trips_and_cache():
    with MathGrader(timeout_s=10, workers=2) as g:
        batch = [(Item(str(i), f"\\sqrt{{{i + 2}}}"), [f"\\boxed{{\\sqrt{{{i + 2}}}}}", f"\\boxed{{{i}\\pi}}"])
                 for i in range(40)]
        first = g.grade(batch)
        trips = g.pool.round_trips
        assert trips <= 10  # 160 checks, 2 workers: a handful of messages, not one per check
        sent = g.stats["checks_sent"]
        second = g.grade(batch)
        assert g.stats["checks_sent"] == sent  # everything came from the caches
        assert g.pool.round_trips == trips
        assert first == second


def test_plain_numbers_never_start_the_pool():
    with MathGrader() as g:
        grades = g.grade([(Item("0", "18"), ["#### 18", "The answer is 18.00", "\\boxed{17}", "$18"])])[0]
        assert [x.verdict for x in grades] == ["correct", "correct", "incorrect", "correct"]
        assert g._pool is None


def test_close_stops_workers():
    g = MathGrader()
    g.grade_pairs([("\\sqrt2", "\\sqrt{2}+0")])
    procs = [w.process for w in g.pool.workers]
    assert procs and all(p.is_alive() for p in procs)
    g.close()
    assert all(not p.is_alive() for p in procs)


def test_percent_and_tolerance_options():
    with MathGrader(percent="divide") as g:
        assert [x.verdict for x in g.grade_pairs([("0.335", "33.5\\%"), ("33.5", "33.5\\%")])] == ["correct", "incorrect"]
    with MathGrader(rel_tol=1e-3) as g:
        got = g.grade_pairs([("\\frac{1}{3}", "0.3333"), ("\\sqrt{2}", "1.4142"), ("\\pi", "3.15")])
        assert [x.verdict for x in got] == ["correct", "correct", "incorrect"]
    with MathGrader() as g:
        assert g.grade_pairs([("\\frac{1}{3}", "0.3333")])[0].verdict == "incorrect"


def _notations(value: Fraction, rng: random.Random) -> list[str]:
    p, q = value.numerator, value.denominator
    out = [f"\\frac{{{p}}}{{{q}}}", f"{p}/{q}", f"\\dfrac{{{p}}}{{{q}}}", f"\\boxed{{\\frac{{{2 * p}}}{{{2 * q}}}}}",
           f"The answer is ${p}/{q}$.", f"{p * 3}/{q * 3}"]
    if q == 1:
        out += [f"{p}", f"{p}.0", f"#### {p}", f"{p:,}".replace(",", "{,}")]
    d = q
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1:
        out.append(str(float(value)) if len(str(float(value))) < 15 else f"{p}/{q}")
    if p > q > 1:
        out.append(f"{p // q}\\frac{{{p % q}}}{{{q}}}" if p % q else f"{p // q}")
    return out


def test_property_rationals_equal_themselves_in_every_notation():
    rng = random.Random(20240607)
    with MathGrader() as g:
        for _ in range(150):
            value = Fraction(rng.randint(-999, 9999), rng.choice([1, 1, 2, 3, 4, 5, 8, 10, 16, 25, 7, 12]))
            gold = f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
            grades = g.grade([(Item("p", gold), _notations(value, rng))])[0]
            assert all(x.verdict == "correct" for x in grades), [(x.extracted, x.verdict) for x in grades]
            assert len({x.cls for x in grades}) == 1
            assert g._pool is None or g.stats["checks_sent"] == 0  # all on the fast path


SYMBOLIC_GOLDS = ["\\frac{\\sqrt{3}}{3}", "x^3+3x-6", "\\left( 3, \\frac{\\pi}{2} \\right)", "(-\\infty, 2) \\cup (3, \\infty)",
                  "\\{1\\pm\\sqrt{5},-2\\}", "6 - 5i", "y = 2x + 3", "[-2,7]", "\\text{(B)}", "\\text{Evelyn}",
                  "2\\sqrt{5}", "e^{2}", "\\frac{11+9a}{20}", "(3,4]", "1 \\pm \\sqrt{19}", "-\\frac{\\pi}{6}"]


def test_property_canonical_form_parses_back_to_an_equivalent_answer(grader):
    """The canonical spelling we store is itself an answer we read, equivalent to the original."""
    first = grader.grade_pairs([(gold, gold + " ") for gold in SYMBOLIC_GOLDS])
    canon = [g.canonical for g in first]
    assert all(c is not None for c in canon)
    again = grader.grade_pairs([(gold, c) for gold, c in zip(SYMBOLIC_GOLDS, canon)])
    assert [g.verdict for g in again] == ["correct"] * len(SYMBOLIC_GOLDS), list(zip(SYMBOLIC_GOLDS, canon))
    assert [g.canonical for g in again] == canon  # and canonicalizing is idempotent


def test_parsed_answers_are_plain_data():
    ast = parse_answer(clean_answer("\\frac{\\sqrt{3}}{2} + x^2"))
    import pickle

    assert pickle.loads(pickle.dumps(ast)) == ast and hash(ast) is not None


# Answers that no check can find equal to each other in these pairs: words against numbers,
# expressions and other words, a number against a lone unknown. The grader decides them itself.
APART = ["nswer", "final return", "\\text{Evelyn}", "no solution", "H", "x", "17", "0.5", "\\frac{1}{2}",
         "50\\%", "x+1", "2\\sqrt{5}", "(1, 2)", "\\text{(B)}", "B", "y = 2x + 3", "[-2,7]"]


@pytest.mark.parametrize("options", [{}, {"decimals": "rounded"}, {"percent": "either"}, {"words": True},
                                     {"rel_tol": 0.5}])
def test_pairs_decided_without_a_worker_agree_with_the_worker(options):
    """Every pair the grader keeps from the pool gets the verdict the pool would give it, under each
    convention: never equal (the worker's "ok, False" or a failed check, which no vote joins)."""
    from harness.grading.math.symbolic import run_job

    with MathGrader(**options) as g:
        parsed = [g.parse(f"\\boxed{{{a}}}") for a in APART]
        decided = 0
        for a, b in combinations(parsed, 2):
            if a.key == b.key or a.cleaned == b.cleaned or (a.value is not None and b.value is not None):
                continue
            apart = g._known_apart(a, b)
            if apart is None:
                continue
            decided += 1
            worker = run_job(("equiv", a.ast, b.ast, g._sym_opts))
            assert worker in (("ok", False),) or worker[:2] == ("err", "unparseable"), (a.cleaned, b.cleaned, worker)
            assert g._same(a, b) == ("ok", False)
        assert decided >= 40
        for p in parsed:  # words or a lone unknown spell themselves, as the worker spells them
            if p.ast is not None and p.ast[0] in ("text", "sym"):
                g._plan(p, [p])
                assert g._canon[p.ast] == run_job(("canon", p.ast, g._sym_opts))


def test_words_and_numbers_grade_without_starting_the_pool():
    """A model answering in words or with a stray letter (a small or untrained model) costs no
    worker: the verdicts and vote classes come out of the parent alone."""
    with MathGrader() as g:
        responses = ["\\boxed{17}", "The answer is 17", "\\boxed{nswer}", "\\boxed{H}", "\\boxed{H}",
                     "\\boxed{final return}", "\\boxed{3}"]
        grades = g.grade([(Item("a", "17"), responses), (Item("b", "H"), responses)])
        assert g._pool is None and g.stats["checks_sent"] == 0
    assert [x.verdict for x in grades[0]] == ["correct", "correct", "unparseable", "incorrect", "incorrect",
                                              "unparseable", "incorrect"]
    assert grades[0][0].cls == grades[0][1].cls and grades[0][3].cls == grades[0][4].cls != grades[0][0].cls
    assert [x.verdict for x in grades[1]] == ["incorrect", "incorrect", "unparseable", "correct", "correct",
                                              "unparseable", "incorrect"]
