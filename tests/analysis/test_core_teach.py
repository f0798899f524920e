"""Teachable items, the training queue in DuckDB, SFT export and the contamination flag."""

import json

import pytest

from harness.data import Source
from harness.errors import HarnessError
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from harness.analysis.teach import export_sft, queue_teachable, teachable
from fakes import FakeBackend


def row(item_id, maj_correct, rate):
    return {"task": "t", "task_version": 1, "item_id": item_id, "maj_correct": maj_correct, "pass_at_1": rate}


RULES = [
    # own maj, own rate, teacher rate -> reason or None
    (False, 0.25, None, "own_samples"),
    (False, 0.0, 1.0, "teacher"),
    (False, 0.0, 0.5, None),       # teacher not reliable
    (False, 0.0, 0.0, None),       # nobody solves: maybe a wrong key
    (False, 0.0, None, None),
    (True, 0.75, 1.0, None),       # already solved by majority
    (False, 0.5, 1.0, "own_samples"),  # own samples take precedence
]


@pytest.mark.parametrize("maj,rate,t_rate,reason", RULES)
def test_teachable_rule(maj, rate, t_rate, reason):
    teacher = None if t_rate is None else [row("1", t_rate >= 0.5, t_rate)]
    got = teachable([row("1", maj, rate)], teacher)
    assert [x.reason for x in got] == ([reason] if reason else [])


def answer_for(golds, right_samples):
    """Fake model: answers item i right in samples < right_samples[i], else wrong."""
    def answer(prompt, rng):
        for q, (gold, item_index) in golds.items():
            if q in prompt:
                sample = rng.random()  # stands in for the sample's own randomness
                return f"The answer is {gold}" if sample < right_samples[item_index] else "The answer is -1"
        raise AssertionError("unknown prompt")
    return answer


def test_queue_export_and_contamination_flag(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    items = get_task("arith").load(Source(limit=6))
    golds = {it.fields["question"]: (it.gold, j) for j, it in enumerate(items)}
    # phi: never right on items 0-1, sometimes (30%) on 2-3, always on 4-5; 70b: always right
    phi = FakeBackend(answer=answer_for(golds, [0, 0, 0.3, 0.3, 1, 1]))
    big = FakeBackend(answer=answer_for(golds, [1] * 6))
    spec_phi, spec_big = ModelSpec("phi", "hf", "phi-path"), ModelSpec("70b", "hf", "big-path")
    run(spec_phi, [get_task("arith")], 16, store, Source(limit=6), backend_factory=lambda s: phi, progress=False)
    run(spec_big, [get_task("arith")], 4, store, Source(limit=6), backend_factory=lambda s: big, progress=False)

    (rep,) = queue_teachable(store, "phi", teacher="70b")
    assert (rep.n_items, rep.own_samples, rep.teacher) == (6, 2, 2)
    queued = {q["item_id"]: q["reason"] for q in store.queue("phi")}
    assert queued == {"0": "teacher", "1": "teacher", "2": "own_samples", "3": "own_samples"}

    out = tmp_path / "sft.jsonl"
    assert export_sft(store, "phi", out) == 4
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    by_id = {x["item_id"]: x for x in lines}
    assert by_id["0"]["source"] == "teacher:70b" and by_id["2"]["source"] == "own"
    for x in lines:
        gold = items[int(x["item_id"])].gold
        assert x["messages"][-1] == {"role": "assistant", "content": f"The answer is {gold}"}
        assert x["messages"][0]["role"] == "user" and items[int(x["item_id"])].fields["question"] in x["messages"][0]["content"]
    assert export_sft(store, "phi", tmp_path / "again.jsonl") == 0  # nothing pending any more

    import subprocess
    import sys
    cli = subprocess.run([sys.executable, "-m", "harness", "teach", "--model", "phi", "--teacher", "70b", "--db",
                          str(tmp_path / "r.duckdb"), "--json"], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)[0] | {"run_id": None, "teacher_run_id": None} == {
        "task": "arith", "n_items": 6, "own_samples": 2, "teacher": 2, "run_id": None, "teacher_run_id": None}
    cli = subprocess.run([sys.executable, "-m", "harness", "export-sft", "--model", "phi", "--all", "--out",
                          str(tmp_path / "all.jsonl"), "--db", str(tmp_path / "r.duckdb")], capture_output=True, text=True)
    assert cli.returncode == 0 and "wrote 4 SFT examples" in cli.stderr

    # Exporting changes no weights: phi's own later runs carry no flag.
    s = run(spec_phi, [get_task("arith")], 16, store, Source(limit=6), backend_factory=lambda s: phi, progress=False)
    assert s.tasks[0].possibly_contaminated == 0
    assert store.contaminated_items(s.run_id, "arith") == set()
    # A served fine-tune with no lineage beside its weights declares its base: the base's exported items.
    spec_tuned = ModelSpec("phi-sft", "openai", "phi-sft", base_url="http://127.0.0.1:9/v1", finetuned_from="phi")
    s = run(spec_tuned, [get_task("arith")], 4, store, Source(limit=6), backend_factory=lambda s: phi, progress=False)
    assert s.tasks[0].possibly_contaminated == 4
    assert store.task_results(s.run_id)[0]["possibly_contaminated"] == 4
    assert store.contaminated_items(s.run_id, "arith") == {"0", "1", "2", "3"}


def test_teach_without_runs_says_what_to_do(tmp_path):
    with pytest.raises(HarnessError, match="harness run --model phi"):
        queue_teachable(Store(tmp_path / "r.duckdb"), "phi")
