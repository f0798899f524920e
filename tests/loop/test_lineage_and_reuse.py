"""Lineage beside the weights follows them into the store and decides the contamination flag;
a run identical to a finished one is reused without a new run row when asked."""

from __future__ import annotations

import json

from harness.data import Source
from harness.lineage import Lineage, read_lineage, trained_items, write_lineage
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from tests.fakes import FakeBackend


def test_trained_items_name_each_line_and_a_variants_parent():
    rows = [{"task": "gsm8k", "item_id": "4"}, {"task": "gsm8k", "item_id": "7/v0", "parent": "7"},
            {"source": "replay"}, {"task": "", "item_id": "9"}]
    assert trained_items(rows) == {("gsm8k", "4"), ("gsm8k", "7/v0"), ("gsm8k", "7")}


def test_lineage_round_trips(tmp_path):
    lin = Lineage(base="/b", method="sft", data_sha256="ab", recipe={"steps": 3}, seed=2, items=(("t", "1"),))
    write_lineage(tmp_path, lin)
    assert read_lineage(tmp_path) == lin
    assert read_lineage(tmp_path / "none") is None


def _model(folder, name, lineage=None):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    if lineage is not None:
        write_lineage(folder, lineage)
    return ModelSpec(name, "hf", str(folder))


def test_flags_follow_the_weights_not_the_name(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    answer = FakeBackend(answer=lambda prompt, rng: "The answer is 3")
    task = get_task("arith")
    base = _model(tmp_path / "base", "phi")
    tuned = _model(tmp_path / "tuned", "phi-sft", Lineage(base=str(tmp_path / "base"), method="sft", data_sha256="x",
                                                          items=(("arith", "1"), ("arith", "2"), ("gsm8k", "1"))))
    s = run(tuned, [task], 2, store, Source(limit=5), backend_factory=lambda s: answer, progress=False)
    assert s.tasks[0].possibly_contaminated == 2
    assert store.contaminated_items(s.run_id, "arith") == {"1", "2"}
    assert store.lineage(tuned.fingerprint())["n_items"] == 3
    # the same weights under another name carry the same flags; the base under the tuned name none
    s = run(ModelSpec("renamed", "hf", tuned.model), [task], 2, store, Source(limit=5),
            backend_factory=lambda s: answer, progress=False)
    assert s.tasks[0].possibly_contaminated == 2
    s = run(ModelSpec("phi-sft", "hf", base.model), [task], 2, store, Source(limit=5),
            backend_factory=lambda s: answer, progress=False)
    assert s.tasks[0].possibly_contaminated == 0


def test_reuse_returns_the_finished_run_without_a_new_row(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    backend = FakeBackend()
    spec = ModelSpec("m", "hf", "some-model")
    task = get_task("arith")
    first = run(spec, [task], 2, store, Source(limit=4), backend_factory=lambda s: backend, progress=False, reuse=True)
    again = run(spec, [task], 2, store, Source(limit=4), backend_factory=lambda s: backend, progress=False, reuse=True)
    assert again.run_id == first.run_id and len(store.runs()) == 1
    assert again.tasks[0].generated == 0 and again.tasks[0].reused == 8
    assert again.tasks[0].maj_at_k == first.tasks[0].maj_at_k
    # other items, or another k, are another run; without reuse every call is a run
    other = run(spec, [task], 2, store, Source(limit=4, items=frozenset({"0", "1"})), backend_factory=lambda s: backend,
                progress=False, reuse=True)
    assert other.run_id != first.run_id and other.tasks[0].n_items == 2
    run(spec, [task], 2, store, Source(limit=4), backend_factory=lambda s: backend, progress=False)
    assert len(store.runs()) == 3
    assert backend.generated == 8  # everything after the first run came from the cache


def test_compare_names_the_items_a_model_was_trained_on(tmp_path):
    from typer.testing import CliRunner

    from harness.cli.app import app

    store = Store(tmp_path / "r.duckdb")
    answer = FakeBackend(answer=lambda prompt, rng: "The answer is 3")
    task = get_task("arith")
    base = _model(tmp_path / "base", "phi")
    tuned = _model(tmp_path / "tuned", "phi-sft", Lineage(base=str(tmp_path / "base"), method="sft", data_sha256="x",
                                                          items=(("arith", "0"), ("arith", "3"))))
    for spec in (base, tuned):
        run(spec, [task], 2, store, Source(limit=6), backend_factory=lambda s: answer, progress=False)
    r = CliRunner().invoke(app, ["compare", "phi-sft", "vs", "phi", "--db", str(store.path), "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    (t,) = doc["tasks"]
    assert (t["a_contaminated"], t["b_contaminated"]) == (2, 0)
    assert any("phi-sft was trained on 2 of the 6 arith items compared" in n for n in doc["notes"])
    r = CliRunner().invoke(app, ["compare", "phi-sft", "vs", "phi", "--db", str(store.path)])
    assert "possibly contaminated" in r.output.replace("\n", " ")
