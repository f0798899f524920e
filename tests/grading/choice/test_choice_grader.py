"""ChoiceGrader: letters mapped back through each sample's ordering, votes in the original order,
position bias, and scoring lines made elsewhere."""

from __future__ import annotations

import pytest

from harness.data import Source
from harness.cli.score import grouped, score_rows, summarize
from harness.errors import DataError
from harness.grading.choice.grade import LETTERS, ChoiceGrader
from harness.tasks._multichoice import ChoiceRow, make_items, orderings, render_cot, render_plain
from harness.grading.choice.position_bias import format_position_bias, position_bias
from harness.records import Grade, Item
from harness.vote import vote

ROW = ChoiceRow(id="q1", question="Which is a noble gas?", choices=("oxygen", "argon", "nitrogen", "carbon"),
                answer_index=1)


def item_with(perms: list[list[int]], gold: str = "B") -> Item:
    return Item(id="q1", gold=gold, fields={"question": ROW.question, "choices": list(ROW.choices)},
                meta={"perms": perms})


def test_letter_at_golds_shown_position_is_correct() -> None:
    # Shown order: carbon, nitrogen, argon, oxygen -> argon (original B) is shown as C.
    item = item_with([[3, 2, 1, 0]])
    [[right, wrong]] = ChoiceGrader().grade([(item, ["Answer: C", "Answer: B"])])
    assert (right.extracted, right.canonical, right.verdict) == ("C", "B", "correct")
    assert (wrong.extracted, wrong.canonical, wrong.verdict) == ("B", "C", "incorrect")


def test_each_sample_uses_its_own_ordering() -> None:
    perms = [list(p) for p in orderings(4, 4, seed=7)]
    item = item_with(perms)
    # Sample i answers the letter where argon (original 1) sits in ordering i % 4, over 8 samples.
    responses = [f"The answer is {LETTERS[perms[i % 4].index(1)]}." for i in range(8)]
    [grades] = ChoiceGrader().grade([(item, responses)])
    assert all(g.verdict == "correct" and g.canonical == "B" for g in grades)
    assert len({g.extracted for g in grades}) == 4  # four different shown letters ...
    assert len({g.cls for g in grades}) == 1  # ... one vote class
    v = vote(grades)
    assert (v.maj_correct, v.share, v.answer) == (True, 1.0, "B")


def test_votes_agree_across_orderings_for_wrong_answers_too() -> None:
    perms = [[0, 1, 2, 3], [2, 3, 0, 1]]
    item = item_with(perms)
    # Both samples pick nitrogen (original C), shown as C then as A.
    [grades] = ChoiceGrader().grade([(item, ["Answer: C", "Answer: A", "Answer: D"])])
    assert [g.canonical for g in grades] == ["C", "C", "D"]
    assert grades[0].cls == grades[1].cls != grades[2].cls
    v = vote(grades)
    assert (v.answer, v.maj_correct) == ("C", False)


def test_unparseable_and_out_of_range_do_not_vote() -> None:
    item = item_with([[0, 1, 2, 3]])
    [grades] = ChoiceGrader().grade([(item, ["A or B?", "Answer: E", "Answer: B"])])
    assert [g.verdict for g in grades] == ["unparseable", "unparseable", "correct"]
    assert [g.cls for g in grades] == [None, None, 0]


def test_items_without_perms_use_the_dataset_order() -> None:
    item = Item(id="x", gold="D", fields={"choices": ["1", "2", "3", "4"]})
    [[g]] = ChoiceGrader().grade([(item, ["Answer: D"])])
    assert g.verdict == "correct"


def test_bare_items_allow_a_to_j() -> None:
    item = Item(id="x", gold="H")  # e.g. an ingested line with only a gold letter
    [[g, h]] = ChoiceGrader().grade([(item, ["Answer: H", "Answer: K"])])
    assert (g.verdict, h.verdict) == ("correct", "unparseable")


def test_direct_grader_takes_the_leading_letter() -> None:
    item = item_with([[0, 1, 2, 3]])
    [[g]] = ChoiceGrader(direct=True).grade([(item, [" B\n\nQuestion: another\nAnswer: A"])])
    assert (g.extracted, g.verdict) == ("B", "correct")


def test_orderings_are_cyclic_shifts_of_a_seeded_shuffle() -> None:
    perms = orderings(4, 4, seed=123)
    base = list(perms[0])
    assert sorted(base) == [0, 1, 2, 3]
    assert [list(p) for p in perms] == [base[s:] + base[:s] for s in range(4)]
    assert perms == orderings(4, 4, seed=123)  # reproducible
    assert {p.index(0) for p in perms} == {0, 1, 2, 3}  # each choice at every position once
    assert orderings(4, 9, seed=1) == orderings(4, 4, seed=1)  # capped at the number of choices
    assert [list(p) for p in orderings(4, 2, seed=0, shuffle=False)] == [[0, 1, 2, 3], [2, 3, 0, 1]]
    with pytest.raises(ValueError):
        orderings(4, 0, seed=0)


def test_make_items_stores_orderings_and_original_gold() -> None:
    opts = {"permutations": 4, "shuffle_seed": 3}
    [item] = make_items([ROW], **opts)
    assert item.gold == "B" and item.fields["choices"] == list(ROW.choices)
    assert len(item.meta["perms"]) == 4
    assert make_items([ROW], **opts)[0].meta == item.meta  # same seed, same orderings
    assert len(make_items([ROW])[0].meta["perms"]) == 1  # one ordering by default
    many = [ChoiceRow(id=f"q{i}", question="?", choices=("w", "x", "y", "z"), answer_index=0) for i in range(40)]
    firsts = {tuple(it.meta["perms"][0]) for it in make_items(many)}
    assert len(firsts) > 5  # each item its own shuffle
    prompts = render_cot(item)
    assert len(prompts) == 4 and len({p.hash for p in prompts}) == 4
    for prompt, perm in zip(prompts, item.meta["perms"]):
        shown_b = LETTERS[perm.index(1)]
        assert f"{shown_b}) argon" in prompt.messages[0].content
        assert 'Answer: $LETTER' in prompt.messages[0].content
    plain = render_plain(item)[0]
    assert plain.text.endswith("Answer:")


def test_shuffle_false_keeps_dataset_order() -> None:
    [item] = make_items([ROW], shuffle=False)
    assert item.meta["perms"] == [[0, 1, 2, 3]]


def _graded(n_items: int, pick) -> list[tuple[Item, list[Grade]]]:
    """Items with 4 orderings and 4 samples each; `pick(perm, i)` is the shown letter sample i picks."""
    out = []
    grader = ChoiceGrader()
    for k in range(n_items):
        row = ChoiceRow(id=f"q{k}", question="?", choices=("w", "x", "y", "z"), answer_index=k % 4)
        [item] = make_items([row], permutations=4)
        perms = item.meta["perms"]
        responses = [f"Answer: {pick(perms[i], i, row.answer_index)}" for i in range(4)]
        out.append((item, grader.grade([(item, responses)])[0]))
    return out


def test_position_bias_of_a_model_that_always_says_a() -> None:
    pb = position_bias(_graded(20, lambda perm, i, gold: "A"))
    assert pb.chosen == (80, 0, 0, 0)
    assert pb.gold_at == (20, 20, 20, 20)  # 4 cyclic orderings: gold at every position once per item
    assert pb.accuracy_by_gold_position == (1.0, 0.0, 0.0, 0.0)
    assert pb.accuracy_spread == 1.0
    assert pb.tv_uniform == pytest.approx(0.75)
    assert pb.p_value is not None and pb.p_value < 1e-10
    text = format_position_bias(pb)
    assert "100.0%" in text and "chi2" in text


def test_position_bias_of_a_perfect_model_is_none() -> None:
    pb = position_bias(_graded(20, lambda perm, i, gold: LETTERS[perm.index(gold)]))
    assert pb.chosen == (20, 20, 20, 20)
    assert pb.tv_uniform == 0.0 and pb.tv_gold == 0.0 and pb.chi2 == 0.0
    assert pb.accuracy_spread == 0.0
    assert pb.accuracy_by_ordering == (1.0, 1.0, 1.0, 1.0)


def test_position_bias_counts_unparseable_as_wrong_but_not_as_picked() -> None:
    pb = position_bias(_graded(4, lambda perm, i, gold: "E"))
    assert pb.n_samples == 16 and pb.n_answered == 0 and pb.chosen == (0, 0, 0, 0)
    assert pb.accuracy_by_gold_position == (0.0, 0.0, 0.0, 0.0)
    assert pb.p_value is None


def test_score_lines() -> None:
    lines = [
        {"item_id": "1", "gold": "B", "response": "Long reasoning... so the answer is B."},
        {"item_id": "1", "gold": "B", "response": "Answer: C"},
        {"item_id": "1", "gold": "b", "response": "\\boxed{B}"},
        {"item_id": "2", "gold": "A", "response": "Either A or D."},
        {"item_id": "2", "gold": "A", "response": "Answer: E", "n_choices": 4},
        {"gold": "C", "response": "The answer is 600 nm.", "choices": ["500 nm", "550 nm", "600 nm", "650 nm"]},
    ]
    grades = score_rows(lines, "choice")
    assert [g.verdict for g in grades] == ["correct", "incorrect", "correct", "unparseable", "unparseable",
                                           "correct"]
    assert [g.canonical for g in grades] == ["B", "C", "B", None, None, "C"]
    s = summarize(grouped(lines, grades))
    assert (s["lines"], s["verdicts"]["correct"], s["verdicts"]["unparseable"], s["items"]) == (6, 3, 2, 3)
    assert s["accuracy"] == 0.5
    # item 1: B, C, B -> majority B (correct); item 2: no answer; the unnamed line: correct
    assert s["maj_at_k"] == pytest.approx(2 / 3)


def test_score_lines_rejects_bad_lines() -> None:
    with pytest.raises(DataError, match="input:1"):
        score_rows([{"response": "A"}], "choice")
    with pytest.raises(DataError, match="not a letter"):
        score_rows([{"gold": "E", "response": "A", "n_choices": 4}], "choice")


def test_harness_score_dispatches_choice(tmp_path, shared_data) -> None:
    """`harness score --task choice` (gold letters) and `--task mmlu_science` (item ids, dataset order)."""
    import json

    from typer.testing import CliRunner

    from harness.cli.app import app
    from harness.cli.score import score_rows

    rows = [{"gold": "C", "response": "A is wrong, B is wrong, so the answer is C."},
            {"gold": "B", "response": "It is B or D."},
            {"gold": "A", "response": "Answer: E", "n_choices": 4},
            {"gold": "J", "response": "The answer is (J)."}]
    grades = score_rows(rows, "choice")
    assert [g.verdict for g in grades] == ["correct", "unparseable", "unparseable", "correct"]
    by_id = [{"item_id": "mmlu/college_physics/test/0", "response": "Answer: B"},
             {"item_id": "mmlu/college_physics/test/1", "response": "Answer: B"}]
    assert [g.verdict for g in score_rows(by_id, "mmlu_science", source=Source.resolve(shared_data))] == [
        "correct", "incorrect"]  # golds B and C in the file's own order
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(app, ["score", "--task", "choice", str(path)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [o["answer"] for o in out] == ["C", None, None, "J"]
