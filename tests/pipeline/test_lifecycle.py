"""One run lifecycle and one generate-what-is-missing path, through a real DuckDB file."""

from __future__ import annotations

import pytest

from harness.pipeline.generate import StoredGenerator, complete
from harness.pipeline.lifecycle import run_lifecycle
from harness.records import Prompt, Sampling
from harness.store import ModelRow, Store
from harness.synth.rewrite import RewriteConfig, rewrite

from fakes import FakeBackend

MODEL = ModelRow(model_id="fp-1", name="m", backend="fake")


def _status(store: Store, run_id: str) -> str:
    return store.query("SELECT status FROM runs WHERE run_id = ?", [run_id])[0]["status"]


def test_statuses(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with run_lifecycle(store, MODEL, k=1, sampling={}, tasks=["t"], command=None) as ok:
        assert _status(store, ok) == "running"
    assert _status(store, ok) == "done"
    with pytest.raises(RuntimeError):
        with run_lifecycle(store, MODEL, k=1, sampling={}, tasks=["t"], command=None) as bad:
            raise RuntimeError("boom")
    assert _status(store, bad) == "failed"
    with pytest.raises(KeyboardInterrupt):
        with run_lifecycle(store, MODEL, k=1, sampling={}, tasks=["t"], command=None) as stopped:
            raise KeyboardInterrupt
    assert _status(store, stopped) == "interrupted"
    assert store.query("SELECT name FROM models")[0]["name"] == "m"


def test_complete_generates_only_what_is_missing(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    fake = FakeBackend(batch_size=2)
    prompts = [Prompt(text=f"q{i}") for i in range(3)]
    with run_lifecycle(store, MODEL, k=2, sampling={}, tasks=["t"], command=None) as run_id:
        have, made = complete(store, run_id, MODEL.model_id, Sampling(seed=1), [(p, i) for p in prompts for i in (0, 1)],
                              lambda: fake)
    assert made == 6 and len(have) == 6
    loaded = []
    with run_lifecycle(store, MODEL, k=3, sampling={}, tasks=["t"], command=None) as run_id:
        have2, made2 = complete(store, run_id, MODEL.model_id, Sampling(seed=1),
                                [(p, i) for p in prompts for i in (0, 1, 2)], lambda: loaded.append(1) or fake)
    assert made2 == 3 and loaded == [1]  # only the new sample index, and the backend loaded once
    assert {k: v.completion.text for k, v in have.items()} == {k: have2[k].completion.text for k in have}
    # Fully stored: the backend is never even created.
    with run_lifecycle(store, MODEL, k=3, sampling={}, tasks=["t"], command=None) as run_id:
        _, made3 = complete(store, run_id, MODEL.model_id, Sampling(seed=1), [(prompts[0], 2)],
                            lambda: pytest.fail("backend created for a stored sample"))
    assert made3 == 0


def test_complete_opens_the_store_once_for_all_its_chunks(tmp_path, monkeypatch):
    """Synth rewrites and pivotal rollouts store chunk by chunk through `complete`: under a lease the
    file is opened once for the lookup and every write, not once per write."""
    store = Store(tmp_path / "s.duckdb")
    prompts = [Prompt(text=f"q{i}") for i in range(6)]
    with run_lifecycle(store, MODEL, k=2, sampling={}, tasks=["t"], command=None) as run_id:
        attaches = []
        real = Store._attach
        monkeypatch.setattr(Store, "_attach", lambda self, con, alias: attaches.append(alias) or real(self, con, alias))
        have, made = complete(store, run_id, MODEL.model_id, Sampling(seed=1), [(p, i) for p in prompts for i in (0, 1)],
                              lambda: FakeBackend(batch_size=2))
        monkeypatch.undo()
    assert made == 12 and len(have) == 12
    assert len(attaches) == 1
    assert store.query("SELECT count(*) AS n FROM generations")[0]["n"] == 12


def _answer(prompt: str, rng) -> str:
    if prompt.startswith("Rewrite"):
        n = prompt.split("fact number ")[1][0]
        return f"QUESTION: What is {n} plus the sum of the first 10 positive integers?\nSOLUTION: ...\nANSWER: {55 + int(n)}"
    n = prompt.split("What is ")[1][0]
    return f"\\boxed{{{55 + int(n)}}}"


def test_synth_rewrite_through_the_store_resumes(tmp_path):
    """synth rewrite asks for completions through StoredGenerator: a crash mid-way keeps what was made,
    and the rerun asks the model only for the rest."""
    store = Store(tmp_path / "s.duckdb")
    prompts = [(f"p{i}", f"Prove fact number {i}.") for i in range(4)]
    config = RewriteConfig(k=3, rewrite_sampling=Sampling(seed=0), solve_sampling=Sampling(seed=0))
    dying = FakeBackend(_answer, batch_size=1, die_after_batches=2)
    with pytest.raises(RuntimeError, match="backend died"):
        with run_lifecycle(store, MODEL, k=3, sampling={}, tasks=["synth_rewrite"], command=None) as run_id:
            rewrite(prompts, StoredGenerator(store, run_id, MODEL.model_id, lambda: dying, batch_size=1), config=config)
    kept = store.query("SELECT count(*) AS n FROM generations")[0]["n"]
    assert kept == 2
    fresh = FakeBackend(_answer)
    with run_lifecycle(store, MODEL, k=3, sampling={}, tasks=["synth_rewrite"], command=None) as run_id:
        gen = StoredGenerator(store, run_id, MODEL.model_id, lambda: fresh)
        result = rewrite(prompts, gen, config=config)
    assert [c.reason for c in result.candidates] == ["accepted"] * 4
    assert gen.reused == kept and fresh.generated == gen.generated == 4 + 4 * 3 - kept
