"""The math tasks: MATH-500 from the shared data folder (ids, gold answers graded against themselves and
against the last box of each reference solution), GSM8K through the math grader, AIME from local
files, and the few-shot prompts."""

from __future__ import annotations

import json

import pytest

from harness.data import Source
from harness.errors import DataError
from harness.grading.math import MathGrader, last_boxed
from harness.tasks import get_task


@pytest.fixture(scope="module")
def math500(shared_data):
    return get_task("math500").load(Source(data_dir=shared_data))


def test_math500_loads_with_unique_ids(math500):
    assert len(math500) == 500
    assert len({it.id for it in math500}) == 500
    assert math500[0].id == "test/precalculus/807.json"
    assert math500[0].gold == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert {it.meta["subject"] for it in math500} >= {"Algebra", "Geometry", "Precalculus"}


def test_math500_reference_answers_grade_correct(math500, shared_data):
    """Gold against itself, and gold against the last \\boxed{} of the worked solution (a different
    spelling for some items): both should be (close to) 100% equivalent."""
    rows = {json.loads(line)["unique_id"]: json.loads(line) for line in (shared_data / "math500_test.jsonl").open()}
    with MathGrader(timeout_s=10) as g:
        self_grades = g.grade([(it, [it.gold]) for it in math500])
        sol_grades = g.grade([(it, [rows[it.id]["solution"]]) for it in math500])
    self_ok = sum(x[0].verdict == "correct" for x in self_grades)
    sol_ok = sum(x[0].verdict == "correct" for x in sol_grades)
    differ = sum(last_boxed(rows[it.id]["solution"]).strip() != it.gold.strip() for it in math500)
    print(f"MATH-500: gold vs itself {self_ok}/500, gold vs solution's last box {sol_ok}/500 "
          f"({differ} spelled differently)")
    assert self_ok == 500
    assert sol_ok >= 495


def test_math500_prompts(math500):
    chat = get_task("math500").render(math500[0])
    assert "\\boxed{}" in chat.messages[0].content and math500[0].fields["problem"] in chat.messages[0].content
    few = get_task("math500_fewshot")
    text = few.render(math500[0]).text
    assert text.count("Problem:") == 5 and text.endswith("Solution:\n")
    assert "Final Answer: The final answer is" in text
    assert "Problem:" in "".join(few.sampling["stop"])


def test_gsm8k_through_math_grader(shared_data):
    task = get_task("gsm8k")
    items = task.load(Source(data_dir=shared_data))
    assert len(items) == 1319 and task.grader is MathGrader
    rows = [json.loads(line) for line in (shared_data / "gsm8k_test.jsonl").open()]
    with task.grader() as g:
        grades = g.grade([(it, [row["answer"], "The answer is " + it.gold + "."]) for it, row in zip(items, rows)])
        assert g._pool is None  # plain numbers: the fast path only
    assert all(x.verdict == "correct" for pair in grades for x in pair)
    few = get_task("gsm8k_fewshot").render(items[0]).text
    assert few.count("Question:") == 9 and few.endswith("Answer:")


def test_aime_from_local_files(tmp_path):
    (tmp_path / "aime_2024.jsonl").write_text(
        json.dumps({"id": 60, "problem": "Find 2+2.", "answer": "4"}) + "\n"
        + json.dumps({"id": 61, "problem": "Find 3+3.", "answer": "006"}) + "\n")
    (tmp_path / "aime_2025.jsonl").write_text(json.dumps({"problem": "Find 1.", "answer": 1}) + "\n")
    items = get_task("aime").load(Source(data_dir=tmp_path))
    assert [it.id for it in items] == ["2024/60", "2024/61", "2025/0"]
    assert [it.gold for it in items] == ["4", "6", "1"]
    assert len(get_task("aime25").load(Source(data_dir=tmp_path))) == 1
    with MathGrader() as g:
        grades = g.grade([(items[1], ["so \\boxed{6}", "\\boxed{006}", "\\boxed{7}"])])[0]
    assert [x.verdict for x in grades] == ["correct", "correct", "incorrect"]
    prompt = get_task("aime").render(items[0])
    assert "\\boxed{}" in prompt.messages[0].content


def test_aime_rejects_non_integer_answers(tmp_path):
    (tmp_path / "aime_2024.jsonl").write_text(json.dumps({"problem": "p", "answer": "1/2"}) + "\n")
    with pytest.raises(DataError, match="aime_2024.jsonl row 0"):
        get_task("aime24").load(Source(data_dir=tmp_path))


@pytest.mark.slow
def test_math500_end_to_end_with_fake_backend(tmp_path, shared_data):
    """The run loop with the math grader and a real DuckDB file: equivalent spellings vote together."""
    from fakes import FakeBackend

    from harness.models import ModelSpec
    from harness.pipeline.runner import run
    from harness.store import Store

    source = Source(data_dir=shared_data, limit=6)
    items = get_task("math500").load(source)
    golds = {it.fields["problem"]: it.gold for it in items}
    spellings = iter(range(10**6))

    def answer(prompt: str, rng) -> str:
        gold = next(g for p, g in golds.items() if p in prompt)
        i = next(spellings) % 3
        return [f"Work...\\boxed{{{gold}}}", f"The answer is ${gold}$.", "\\boxed{\\frac{1}{7777}}"][i]

    store = Store(tmp_path / "r.duckdb")
    summary = run(ModelSpec(name="fake", backend="hf", model="fake-model-id"), [get_task("math500")], 3, store,
                  source, backend_factory=lambda s: FakeBackend(answer=answer), progress=False)
    t = summary.tasks[0]
    assert t.n_items == 6 and t.maj_at_k == 1.0 and t.pass_at_1 == pytest.approx(2 / 3)
    rows = store.query("SELECT item_id, vote_share FROM item_results WHERE run_id = ?", [summary.run_id])
    assert {r["item_id"] for r in rows} == {it.id for it in items}
    assert all(r["vote_share"] == pytest.approx(2 / 3) for r in rows)
