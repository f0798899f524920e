"""The run loop stores and grades finished chunks on a worker thread while the backend generates the
rest; a failure anywhere stores what was generated and stops the rest."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import replace

import pytest

from harness.data import Source
from harness.grading.math import MathGrader
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.records import Completion
from harness.store import Store
from harness.tasks import get_task
from fakes import FakeBackend

SPEC = ModelSpec(name="fake", backend="hf", model="fake-model-id")


class StreamingFake(FakeBackend):
    """Answers like FakeBackend, through `stream`: `group` requests' samples per group; `between(i)`
    runs after group i is handed over (a test waits there); dies after `die_after_groups` groups."""

    def __init__(self, group: int = 2, between=None, die_after_groups: int | None = None, **kw):
        super().__init__(**{"batch_size": 1 << 20, **kw})
        self.group, self.between, self.die_after_groups = group, between, die_after_groups
        self.closed_early = False

    def stream(self, requests, params):
        self.calls.append([(r.prompt.text, i, s) for r in requests for i, s in zip(r.indices, r.seeds)])
        finished = False
        try:
            for g, start in enumerate(range(0, len(requests), self.group)):
                if self.die_after_groups is not None and g >= self.die_after_groups:
                    raise RuntimeError("backend died")
                yield [(r, j, Completion(self.answer(requests[r].prompt.text, random.Random(s)), "stop", 5))
                       for r in range(start, min(start + self.group, len(requests)))
                       for j, s in enumerate(requests[r].seeds)]
                if self.between is not None:
                    self.between(g)
            finished = True
        finally:
            self.closed_early = not finished


def wait_for(cond, what: str, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened while the backend was generating: {what}")
        time.sleep(0.01)


class SpyGrader(MathGrader):
    graded: list[str] = []
    threads: set[str] = set()

    def grade(self, batch):
        SpyGrader.threads.add(threading.current_thread().name)
        out = super().grade(batch)
        SpyGrader.graded += [it.id for it, _ in batch]
        return out


def test_finished_chunks_are_stored_and_graded_while_the_backend_generates(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    SpyGrader.graded, SpyGrader.threads = [], set()
    task = replace(get_task("arith"), grader=SpyGrader)

    def between(g: int) -> None:  # before generating group g + 1, group g is stored and its items graded
        n = 4 * 2 * (g + 1)
        wait_for(lambda: store.query("SELECT count(*) AS n FROM generations")[0]["n"] == n, f"{n} samples stored")
        wait_for(lambda: len(SpyGrader.graded) == 2 * (g + 1), f"{2 * (g + 1)} items graded")

    backend = StreamingFake(group=2, between=between)
    s = run(SPEC, [task], 4, store, Source(limit=6), backend_factory=lambda _: backend, progress=False)
    assert (s.tasks[0].generated, s.tasks[0].reused) == (24, 0)
    assert sorted(SpyGrader.graded, key=int) == [str(i) for i in range(6)]
    assert SpyGrader.threads == {"harness-post"}
    assert store.query("SELECT count(*) AS n FROM scores")[0]["n"] == 24


def test_cached_items_are_graded_and_only_the_missing_samples_streamed(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    run(SPEC, [get_task("arith")], 2, store, Source(limit=4), backend_factory=lambda _: FakeBackend(), progress=False)
    backend = StreamingFake(group=1)
    s = run(SPEC, [get_task("arith")], 2, store, Source(limit=6), backend_factory=lambda _: backend, progress=False)
    assert (s.tasks[0].generated, s.tasks[0].reused) == (4, 8)
    assert store.query("SELECT count(*) AS n FROM item_results WHERE run_id = ?", [s.run_id])[0]["n"] == 6


def test_a_dying_stream_stores_every_sample_it_handed_over(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    backend = StreamingFake(group=2, die_after_groups=3)
    with pytest.raises(RuntimeError, match="backend died"):
        run(SPEC, [get_task("arith")], 4, store, Source(limit=10), backend_factory=lambda _: backend, progress=False)
    assert store.query("SELECT count(*) AS n FROM generations")[0]["n"] == 3 * 2 * 4
    assert store.runs()[0]["status"] == "failed"
    again = run(SPEC, [get_task("arith")], 4, store, Source(limit=10), backend_factory=lambda _: StreamingFake(),
                progress=False)
    assert (again.tasks[0].generated, again.tasks[0].reused) == (16, 24)


def test_a_failing_store_stops_generation_and_raises(tmp_path):
    class BrokenStore(Store):
        def put_generations(self, *args, **kw):
            raise OSError("disk full")

    store = BrokenStore(tmp_path / "r.duckdb")
    backend = StreamingFake(group=1, between=lambda g: time.sleep(0.05))
    with pytest.raises(OSError, match="disk full"):
        run(SPEC, [get_task("arith")], 2, store, Source(limit=50), backend_factory=lambda _: backend, progress=False)
    assert backend.closed_early, "generation must stop once storing fails"
    assert store.runs()[0]["status"] == "failed"


def test_tasks_that_grade_alike_share_one_grader_per_run(tmp_path):
    made = []

    def factory():
        made.append(MathGrader())
        return made[-1]

    tasks = [replace(get_task("arith"), grader=factory), replace(get_task("arith"), name="arith_again", grader=factory)]
    run(SPEC, tasks, 2, Store(tmp_path / "r.duckdb"), Source(limit=3), backend_factory=lambda _: StreamingFake(),
        progress=False)
    assert len(made) == 1


def test_a_main_thread_grader_grades_on_the_main_thread(tmp_path):
    class MainOnly(SpyGrader):
        main_thread = True

    SpyGrader.graded, SpyGrader.threads = [], set()
    task = replace(get_task("arith"), grader=MainOnly)
    run(SPEC, [task], 2, Store(tmp_path / "r.duckdb"), Source(limit=3), backend_factory=lambda _: StreamingFake(),
        progress=False)
    assert SpyGrader.threads == {threading.main_thread().name}
    assert sorted(SpyGrader.graded) == ["0", "1", "2"]
