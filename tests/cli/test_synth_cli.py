"""`harness synth ...` as a user runs it, and the synthesized files as tasks through the run loop."""

import json
import os
import subprocess
import sys

import pytest

from fakes import FakeBackend
from harness.data import Source
from harness.errors import DataError, HarnessError
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from synth_golden import GOLDEN


def harness(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "harness", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "HARNESS_DATA_DIR": ""})


def _golden_file(path):
    path.write_text("".join(json.dumps({"id": name, "question": q, "answer": s}) + "\n" for name, q, s, _ in GOLDEN))
    return path


def invoke(*args):
    """In process (fast): the typer app without `main`'s error printing, so errors surface as exceptions."""
    from typer.testing import CliRunner

    from harness.cli.app import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_help_teaches():
    r = invoke("synth", "--help")
    assert r.exit_code == 0
    for cmd in ("variants", "numeric-form", "rewrite", "gsm8k_variants"):
        assert cmd in r.output
    r = invoke("synth", "variants", "--help")
    assert r.exit_code == 0 and "--n" in r.output and "annotation" in r.output and "--seed" in r.output


def test_variants_cli_writes_a_task_file_and_variants_of_variants(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    out = data / "gsm8k_variants.jsonl"
    r = harness("synth", "variants", "--in", _golden_file(tmp_path / "in.jsonl"), "--n", "2", "--seed", "0",
                "--out", out, "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["written"] == 2 * len(GOLDEN) and summary["original_reproduced_rate"] == 1.0
    items = get_task("gsm8k_variants").load(Source(data_dir=data))
    assert [i.id for i in items][:2] == ["ducks/v0", "ducks/v1"]
    assert all(i.meta["parent"] == i.id.rsplit("/v", 1)[0] for i in items)
    # The written file is itself a source of variants (ids grow one level).
    r = harness("synth", "variants", "--task", "gsm8k_variants", "--data-dir", data, "--n", "1",
                "--out", tmp_path / "vv.jsonl", "--json")
    assert r.returncode == 0, r.stderr
    second = [json.loads(line) for line in (tmp_path / "vv.jsonl").read_text().splitlines()]
    assert second and all(row["id"].count("/v") == 2 for row in second)


@pytest.mark.parametrize("args,message", [
    (("synth", "variants", "--out", "x.jsonl"), "exactly one of --task"),
    (("synth", "variants", "--task", "arith", "--out", "x.jsonl"), "supported: gsm8k"),
    (("synth", "variants", "--task", "gsm8k", "--data-dir", ".", "--out", "x.jsonl"), "gsm8k_test.jsonl not found"),
    (("synth", "numeric-form", "--task", "mmlu_science", "--out", "x.jsonl"), "no hub source"),
    (("synth", "variants", "--task", "gsm8k", "--n", "0", "--out", "x.jsonl"), "--n must be at least 1"),
])
def test_clear_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    r = invoke(*args)
    assert isinstance(r.exception, HarnessError) and message in str(r.exception), r.output


def test_bad_input_line_is_named_and_exits_2(tmp_path):
    """One real subprocess: the user sees the message on stderr and status 2, no traceback."""
    bad = tmp_path / "mc.jsonl"
    bad.write_text(json.dumps({"question": "q", "choices": ["1", "2"], "answer_index": 0}) + "\n"
                   + json.dumps({"question": "q"}) + "\n")
    r = harness("synth", "numeric-form", "--in", bad, "--out", tmp_path / "o.jsonl")
    assert r.returncode == 2 and "mc.jsonl:2" in r.stderr and "choices" in r.stderr
    assert "Traceback" not in r.stderr


def test_synth_task_needs_its_file(tmp_path):
    with pytest.raises(DataError, match="gsm8k_variants.jsonl"):
        get_task("gsm8k_variants").load(Source(data_dir=tmp_path))


def _answers_by_question(items):
    golds = {i.fields["question"]: i.gold for i in items}

    def answer(prompt, rng):
        gold = next(g for q, g in golds.items() if q in prompt)
        return f"Step by step... The answer is {gold}"

    return answer


def test_synthesized_items_run_through_the_run_loop(tmp_path):
    """Variants and numeric forms load as tasks, render, and grade a right answer as correct."""
    from harness.items_io import write_items
    from harness.synth.numeric_form import convert
    from harness.synth.variants import make_variants
    from harness.records import Item

    parents = [Item(id=n, gold="", fields={"question": q, "answer": s}) for n, q, s, _ in GOLDEN]
    variants, _ = make_variants(parents, n=1, seed=3)
    write_items(tmp_path / "gsm8k_variants.jsonl", variants)
    numeric = [convert("m/0", "The string resonates at", ["414 Hz", "427 Hz", "433 Hz", "440 Hz"], 1).item,
               convert("m/1", "The speed is", ["0.50c", "0.60c", "0.70c", "0.80c"], 1).item]
    write_items(tmp_path / "mmlu_science_numeric.jsonl", numeric)
    store = Store(tmp_path / "r.duckdb")
    spec = ModelSpec(name="fake", backend="hf", model="fake-model-id")
    for task, items in (("gsm8k_variants", variants), ("mmlu_science_numeric", numeric)):
        summary = run(spec, [get_task(task)], 2, store, Source(data_dir=tmp_path),
                      backend_factory=lambda s, items=items: FakeBackend(_answers_by_question(items)), progress=False)
        assert summary.tasks[0].n_items == len(items) and summary.tasks[0].maj_at_k == 1.0
    ids = {r["item_id"] for r in store.query("SELECT DISTINCT item_id FROM item_results")}
    assert {"ducks/v0", "m/0/num"} <= ids
