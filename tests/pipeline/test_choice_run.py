"""mmlu_science through the real run loop (fake backend, real DuckDB file) with 4 orderings per item:
votes agree across orderings, a position-biased model scores exactly chance, and the position bias
is measured from what the store kept."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.data import Source
from harness.grading.choice.grade import LETTERS
from harness.models import ModelSpec
from harness.grading.choice.position_bias import position_bias
from harness.records import Grade
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from fakes import FakeBackend

SPEC = ModelSpec(name="fake", backend="hf", model="fake-model-id")
N = 8  # items


def _run(tmp_path: Path, shared_data: Path, answer, name: str):
    store = Store(tmp_path / f"{name}.duckdb")
    source = Source.resolve(shared_data, limit=N)
    task = get_task("mmlu_science").configure({"permutations": 4})
    summary = run(SPEC, [task], 4, store, source, backend_factory=lambda s: FakeBackend(answer), progress=False)
    return store, summary.run_id, summary.tasks[0], task.load_items(source)


def _shown_letter(prompt: str, text: str) -> str:
    m = re.search(r"^([A-J])\) " + re.escape(text) + "$", prompt, re.M)
    assert m, text
    return m.group(1)


def test_a_model_that_knows_the_answer_agrees_across_orderings(tmp_path: Path, shared_data: Path) -> None:
    items = get_task("mmlu_science").load(Source.resolve(shared_data, limit=N))
    gold_text = {it.fields["question"]: it.fields["choices"][LETTERS.index(it.gold)] for it in items}

    def answer(prompt, rng):
        q = next(q for q in gold_text if q in prompt)
        return f"Option A is tempting, but no.\n\nAnswer: {_shown_letter(prompt, gold_text[q])}"

    store, run_id, t, _ = _run(tmp_path, shared_data, answer, "perfect")
    assert (t.maj_at_k, t.pass_at_1, t.n_items) == (1.0, 1.0, N)
    rows = store.query("SELECT vote_share FROM item_results WHERE run_id = ?", [run_id])
    assert [r["vote_share"] for r in rows] == [1.0] * N
    shown = store.query("SELECT count(DISTINCT extracted) AS n FROM scores WHERE run_id = ? GROUP BY item_id", [run_id])
    assert all(r["n"] > 1 for r in shown)  # the same answer was shown under different letters


def test_a_model_that_always_says_a_scores_chance_and_shows_its_bias(tmp_path: Path, shared_data: Path) -> None:
    store, run_id, t, items = _run(tmp_path, shared_data, lambda prompt, rng: "Answer: A", "biased")
    assert t.pass_at_1 == 0.25  # the gold answer sits at A in exactly one of the 4 orderings
    rows = store.query("SELECT item_id, sample_index, extracted, canonical, verdict, cls FROM scores "
                       "WHERE run_id = ? ORDER BY item_id, sample_index", [run_id])
    by_item: dict[str, list[Grade]] = {}
    for r in rows:
        by_item.setdefault(r["item_id"], []).append(Grade(r["extracted"], r["canonical"], r["verdict"], r["cls"]))
    pb = position_bias([(it, by_item[it.id]) for it in items])
    assert pb.chosen == (4 * N, 0, 0, 0) and pb.gold_at == (N, N, N, N)
    assert pb.accuracy_by_gold_position == (1.0, 0.0, 0.0, 0.0)
    assert pb.tv_uniform == 0.75
    # The run stored the task's report, not just printed it.
    [stored] = store.task_reports(run_id, "mmlu_science")
    assert stored["name"] == t.reports[0].name and json.loads(stored["data"])["chosen"] == [4 * N, 0, 0, 0]
