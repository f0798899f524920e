"""The run loop stores finished chunks on a store thread and grades them on a grading thread while the
backend generates the rest; a failure anywhere stores what was generated and stops the rest; a run
killed with SIGKILL keeps every sample it handed over and a rerun generates only the rest."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
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
from loopback_openai import Behaviour, LoopbackServer

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


def test_storing_waits_for_no_grading(tmp_path):
    """A grader whose worker pool takes long to start (or grades slowly) holds up no stored sample:
    each chunk is in the file while the grader has not even started."""
    started, release = threading.Event(), threading.Event()

    class Stuck(MathGrader):
        def start(self):
            started.set()
            release.wait(60)

    store = Store(tmp_path / "r.duckdb")

    def between(g: int) -> None:
        n = 2 * 2 * (g + 1)
        try:
            wait_for(lambda: store.query("SELECT count(*) AS n FROM generations")[0]["n"] == n,
                     f"{n} samples stored while the grader is starting", limit_s=20)
        finally:
            if g == 2:
                assert started.is_set()
                release.set()

    task = replace(get_task("arith"), grader=Stuck)
    s = run(SPEC, [task], 2, store, Source(limit=6), backend_factory=lambda _: StreamingFake(group=2, between=between),
            progress=False)
    assert (s.tasks[0].generated, s.tasks[0].reused) == (12, 0)
    assert store.query("SELECT count(*) AS n FROM scores")[0]["n"] == 12


def test_a_run_killed_midway_through_a_stream_keeps_what_it_handed_over(tmp_path):
    """A real `harness run` (one streamed batch, a real DuckDB file) killed with SIGKILL while its
    ninth request hangs: the eight answered samples are on disk, and the rerun asks for the rest only."""
    reached, release = threading.Event(), threading.Event()
    served: list[int] = []

    def hang_after_8(req: dict, i: int) -> str:
        served.append(1)
        if len(served) == 9:
            reached.set()
            release.wait()
        return "The answer is 7."

    db = tmp_path / "r.duckdb"
    b = Behaviour(model="m", answer=hang_after_8)
    with LoopbackServer(b) as server:
        (tmp_path / "models.toml").write_text(
            f'[models.m]\nbackend = "openai"\nmodel = "m"\nbase_url = "{server.url}"\nrevision = "r1"\n'
            '[models.m.options]\nmax_concurrency = 1\n')
        args = [sys.executable, "-m", "harness", "run", "--model", "m", "--models", str(tmp_path / "models.toml"),
                "--task", "arith", "-k", "1", "--limit", "10", "--db", str(db), "--no-progress", "--json"]
        first = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert reached.wait(timeout=120), "the run never sent its ninth request"
            wait_for(lambda: _stored(db) == 8, "the eight answered samples stored while the ninth is out", 30)
            assert first.poll() is None
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
            release.set()
        again = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    t = json.loads(again.stdout)["tasks"][0]
    assert (t["generated"], t["reused"]) == (2, 8)
    assert len(served) == 11  # 8 answered, 1 lost with the kill, 2 asked again
    assert Store(db, read_only=True).query("SELECT count(*) AS n, count(DISTINCT gen_key) AS d FROM generations")[0] \
        == {"n": 10, "d": 10}


def _stored(db) -> int:
    """Samples in the file, read by another process as the leaderboard would (0 while it is held)."""
    try:
        return Store(db, read_only=True, lock_timeout=1).query("SELECT count(*) AS n FROM generations")[0]["n"]
    except Exception:
        return 0


def test_the_store_thread_writes_at_most_once_per_interval_and_at_once_when_generation_ends(tmp_path, monkeypatch):
    """A stream handing over 10 groups at once: with an hour between writes the store thread writes
    the first group(s) at once and the rest in one more write when generation ends, without waiting
    out the interval, and every sample is stored and scored."""
    import harness.pipeline.runner as runner

    monkeypatch.setattr(runner, "WRITE_EVERY_S", 3600.0)
    writes: list[int] = []

    class Counting(Store):
        def put_generations(self, run_id, model_id, sampling_key, rows):
            writes.append(len(rows))
            return super().put_generations(run_id, model_id, sampling_key, rows)

    store = Counting(tmp_path / "r.duckdb")
    done: list = []
    thread = threading.Thread(target=lambda: done.append(run(
        SPEC, [get_task("arith")], 3, store, Source(limit=10), backend_factory=lambda _: StreamingFake(group=1),
        progress=False)))
    thread.start()
    thread.join(timeout=120)
    assert done, "the run waited out the interval instead of writing when generation ended"
    assert 1 <= len(writes) <= 2 and sum(writes) == 30
    assert (done[0].tasks[0].generated, store.query("SELECT count(*) AS n FROM scores")[0]["n"]) == (30, 30)
