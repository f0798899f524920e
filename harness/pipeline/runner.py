"""The run loop: the only place that sequences stages.

    load items -> render prompts -> look up the cache -> generate what is missing, batch by batch,
    storing each batch as it completes -> grade every sample -> vote -> store results per item/task.

Every completion is keyed by (model fingerprint, prompt hash, sampling key, sample index), so a
rerun generates nothing already stored, a run killed at any point loses at most what the engine had
not finished and what it finished in the last WRITE_EVERY_S (half a second), and raising k from 4 to 8
generates only samples 4..7. The backend is created only when something is missing, so a fully cached
rerun never loads the model.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from harness.backends import Backend, make_backend
from harness.data import Source
from harness import __version__
from harness.errors import HarnessError
from harness.lineage import read_lineage
from harness.models import ModelSpec
from harness.records import Grade, Item, Prompt, Sampling, stable_hash
from harness.grading.math.conventions import describe
from harness.pipeline.answers import Usage, conventions_of, grade_answers, task_grader
from harness.pipeline.generate import Made, chunks, lookup, store_chunk
from harness.pipeline.lifecycle import model_row, run_lifecycle
from harness.pipeline.overlap import Worker
from harness.pipeline.results import RunSummary, TaskSummary, item_usage, record_results, stored_summary
from harness.store import Store
from harness.task import Grader, Task
from harness.thinking import ThinkingFormat

GRADE_CHUNK = 64  # items per grader call: amortizes pools, keeps the progress bar moving
# While the engine generates, the store thread writes what came at most this often: a write costs a few
# ms of CPU whatever its size, and a crash loses at most the samples of this last interval.
WRITE_EVERY_S = 0.5


def resolve_sampling(spec: ModelSpec, task: Task, overrides: Mapping[str, Any]) -> Sampling:
    """Defaults < the model's sampling < what the task needs < command-line overrides."""
    merged: dict[str, Any] = {}
    for layer in (spec.sampling, task.sampling, {k: v for k, v in overrides.items() if v is not None}):
        merged.update(layer)
    if "stop" in merged:
        merged["stop"] = tuple(merged["stop"])
    return replace(Sampling(), **merged)


def run_key(model_id: str, k: int, n: int, tasks: Sequence[tuple[Task, Sequence[Item], Sampling]],
            conventions: str | None = None) -> str:
    """What makes two runs the same run: the weights, k and n, and per task its name, version, bound
    options, sampling and item ids, under one harness version (a new grader may grade differently),
    and the math conventions when they were named."""
    return stable_hash({"model_id": model_id, "k": k, "n": n, "version": __version__, "tasks": [
        {"task": t.name, "version": t.version, "args": {a: str(v) for a, v in sorted(t.args.items())},
         "sampling": s.to_json(), "items": stable_hash([it.id for it in items], 20)} for t, items, s in tasks],
        **({"conventions": conventions} if conventions is not None else {})}, 24)


def _variants(task: Task, item: Item) -> tuple[Prompt, ...]:
    rendered = task.render(item)
    variants = (rendered,) if isinstance(rendered, Prompt) else tuple(rendered)
    if not variants:
        raise HarnessError(f"task {task.name} rendered no prompt for item {item.id}")
    return variants


class _Progress:
    """Progress on stderr: rich bars on a terminal; elsewhere (a log file, a pipe) one line per stage
    as it ends, so a log holds no redrawn bars; silent when disabled."""

    def __init__(self, enabled: bool, console: Console | None = None):
        console = console or Console(stderr=True)
        self.console = console if enabled else None
        # Redrawn twice a second, not rich's 10: a redraw costs about 2 ms of CPU, which on a small
        # machine is taken from the engine generating beside it (24 ms of CPU per second at 10).
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), console=console, transient=False, refresh_per_second=2,
        ) if enabled and console.is_terminal else None
        self.open: dict[str, tuple[int, list[int], float]] = {}  # plain lines: stage -> total, done, start

    def __enter__(self) -> "_Progress":
        if self.bar:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar:
            self.bar.__exit__(*exc)
        for description in list(self.open):  # stages cut short (an error, Ctrl-C) say how far they got
            if self.open[description][1][0]:
                self._line(description, stopped=True)
            else:  # nothing done: the error says why, a "stopped at 0" line would only bury it
                self.open.pop(description)

    def _line(self, description: str, stopped: bool = False) -> None:
        import time

        total, done, start = self.open.pop(description)
        how = "stopped at" if stopped else "done,"
        assert self.console is not None  # stages are only opened while enabled
        self.console.print(f"{description}: {how} {done[0]}/{total} in {time.monotonic() - start:.1f} s",
                           highlight=False, soft_wrap=True)

    def add(self, description: str, total: int) -> Callable[[int], None]:
        if self.console is None:
            return lambda n: None
        if self.bar:
            bar = self.bar
            tid = bar.add_task(description, total=total)
            return lambda n: bar.advance(tid, n)
        import time

        done = [0]
        self.open[description] = (total, done, time.monotonic())

        def advance(n: int) -> None:
            done[0] += n
            if done[0] >= total and description in self.open:
                self._line(description)
        return advance


def run(
    spec: ModelSpec,
    tasks: Sequence[Task],
    k: int,
    store: Store,
    source: Source,
    *,
    n: int | None = None,
    sampling: Mapping[str, Any] | None = None,
    backend_factory: Callable[[ModelSpec], Backend] = make_backend,
    progress: bool = True,
    command: str | None = None,
    reuse: bool = False,
    math_options: Any = None,
) -> RunSummary:
    """Run `spec` on `tasks`: k samples per item (n >= k drawn), generated where the store lacks them,
    graded, voted and stored as one run. `reuse`: when a finished run already holds exactly this
    (same weights, sampling, k, n, task versions, items and harness version), return it and add no
    run row (the loop and the demo rerun without duplicating runs). `math_options` (a MathOptions:
    named conventions and flags) grades math tasks; None: each task's own grader."""
    if k < 1:
        raise HarnessError(f"k must be at least 1, got {k}")
    n = k if n is None else n
    if n < k:
        raise HarnessError(f"-n (samples per item, {n}) must be at least -k ({k})")
    overrides = dict(sampling or {})
    # Every task's data is read before anything is written or loaded: a bad file fails fast.
    loaded = [(task, source.select(task.load_items(source), task.name)) for task in tasks]
    for task, items in loaded:
        if not items:
            raise HarnessError(f"task {task.name} loaded no items")
    model = model_row(spec)
    run_sampling = resolve_sampling(spec, tasks[0], overrides) if tasks else Sampling()
    key = run_key(model.model_id, k, n, [(t, items, resolve_sampling(spec, t, overrides)) for t, items in loaded],
                  describe(math_options) if math_options is not None else None)
    if reuse:
        done = store.finished_run_with_key(key)
        if done is not None:
            return stored_summary(store, done, spec.name, model.model_id)
    lineage = read_lineage(spec.model) if spec.local_weights() is not None else None
    if lineage is not None:
        store.put_lineage(model.model_id, lineage.to_json(), lineage.items)
    backend: Backend | None = None

    def get_backend() -> Backend:
        nonlocal backend
        if backend is None:
            backend = backend_factory(spec)
        return backend

    summaries: list[TaskSummary] = []
    graders = Graders()
    # One lease on the store for the run: the file stays open between its operations (opening and
    # closing it cost more than most of them) but for another process that asks for it, and while no
    # operation comes (a model starting, the last items grading; see `Store.lease`).
    try:
        with store.lease(), run_lifecycle(store, model, k=k, sampling=run_sampling.to_json(),
                                          tasks=[t.name for t in tasks], command=command,
                                          run_key=key) as run_id, _Progress(progress) as bars:
            try:
                for task, items in loaded:
                    summaries.append(_run_task(task, items, spec.name, model.model_id, run_id, k, n, store,
                                               resolve_sampling(spec, task, overrides), get_backend, bars,
                                               finetuned_from=None if lineage else spec.finetuned_from,
                                               fmt=spec.thinking_format(), math_options=math_options,
                                               graders=graders,
                                               fresh=task.name not in {s.task for s in summaries}))
            finally:
                # Stopping the math pool's processes need not hold up the end of the run.
                threading.Thread(target=graders.close, name="harness-graders-close", daemon=True).start()
                report = getattr(backend, "report", None)
                if report is not None:  # e.g. requests served and failed per replica
                    store.set_backend_report(run_id, report())
    finally:  # the lease ended first: before the engine's shutdown, which may take seconds
        if backend is not None:
            backend.close()
    return RunSummary(run_id, spec.name, model.model_id, tuple(summaries))


def _run_task(task: Task, items: list[Item], model_name: str, model_id: str, run_id: str, k: int, n: int, store: Store,
              params: Sampling, get_backend: Callable[[], Backend], bars: _Progress,
              finetuned_from: str | None = None, fmt: ThinkingFormat = ThinkingFormat(),
              math_options: Any = None, graders: "Graders | None" = None, *, fresh: bool = False) -> TaskSummary:
    """One task: what is stored is graded at once and what is missing is generated in chunks; a store
    thread commits what was handed over (at most once per WRITE_EVERY_S) and a grading thread grades
    each item as soon as its last sample is stored, while the engine generates the rest, so what is
    left after generation is the last write and the vote. `kill -9` loses at most what is in flight:
    samples not yet handed over or handed over in the last WRITE_EVERY_S, and the write under way."""
    variants = [_variants(task, it) for it in items]
    # Which (prompt, sample index) each item's n samples are: sample i uses variant i % V.
    slots = [[(v[i % len(v)], i) for i in range(n)] for v in variants]
    have, requests = lookup(store, model_id, params, [s for item_slots in slots for s in item_slots])
    n_missing = sum(len(r.indices) for r in requests)
    waiting: dict[tuple[str, int], list[int]] = {}  # a missing sample -> the items that wait for it
    left = [0] * len(items)
    for j, item_slots in enumerate(slots):
        for p, i in item_slots:
            if (p.hash, i) not in have:
                waiting.setdefault((p.hash, i), []).append(j)
                left[j] += 1

    own = graders is None
    graders = graders or Graders()
    grader = graders.get(task, math_options)
    conventions = conventions_of(grader)
    threaded = not getattr(grader, "main_thread", False)  # e.g. lm-eval metrics that use signal.alarm
    grades: list[list[Grade] | None] = [None] * len(items)
    usages: list[Usage] = []  # tokens and latency, per graded chunk
    generated = bars.add(f"{task.name}: generating", n_missing) if n_missing else (lambda n: None)
    scored = bars.add(f"{task.name}: scoring", len(items))
    skey = params.key()
    worker = Worker()  # grades the items a stored chunk completed, starts the grader's pool

    def grade(js: list[int]) -> None:
        """Grade items on their final answers (thinking split off), a chunk of items at a time."""
        for start in range(0, len(js), GRADE_CHUNK):
            chunk = js[start:start + GRADE_CHUNK]
            batch = [(items[j], [have[(p.hash, i)].completion for p, i in slots[j]]) for j in chunk]
            answered = grade_answers(grader, batch, fmt)
            for j, g in zip(chunk, answered.grades):
                grades[j] = g
            usages.append(answered.usage)
            scored(len(chunk))

    def keep(chunk: list[Made]) -> None:
        """Store a generated chunk (committed before anything else happens to it), then hand the
        items it completed to the grading thread (not when generation or grading failed)."""
        ready = []
        for key in store_chunk(store, run_id, model_id, skey, chunk, have):
            for j in waiting.pop(key, ()):
                left[j] -= 1
                if left[j] == 0:
                    ready.append(j)
        generated(len(chunk))
        if threaded and ready and not worker.failing and not worker.failed:
            worker.submit(grade, ready, check=False)

    inbox: list[Made] = []  # generated, not yet taken by the store thread
    lock = threading.Lock()
    queued = [False]  # a `take` is queued that has not yet emptied the inbox
    last_write = [-WRITE_EVERY_S]
    at_once = threading.Event()  # set: the next `take` writes without waiting (a batch or generation ended)

    def take() -> None:
        """Keep everything generated since the store thread last took: at most one write per
        WRITE_EVERY_S while the engine generates (each write costs CPU the engine could use)."""
        wait = last_write[0] + WRITE_EVERY_S - time.monotonic()
        if wait > 0:
            at_once.wait(wait)
        with lock:
            chunk = inbox[:]
            inbox.clear()
            queued[0] = False
        if chunk:
            last_write[0] = time.monotonic()
            keep(chunk)

    def hand_over(chunk: list[Made]) -> None:
        """Put a chunk in the inbox, and queue a `take` unless one is queued already."""
        with lock:
            inbox.extend(chunk)
            first, queued[0] = not queued[0], True
        if first:
            storer.submit(take, always=True)

    def check() -> None:
        storer.check()
        worker.check()

    def settle() -> None:
        """Between the backend's batches: every sample handed over is on disk before the next batch
        starts (what a crash loses stays within the batch in flight, as without a store thread)."""
        at_once.set()
        try:
            storer.drain()
        finally:
            at_once.clear()
        worker.check()

    # The store thread's writes are a chunk each: DuckDB on one thread for them, so that a second one
    # takes no CPU from an engine on the same cores. The run's lease keeps the file open between them.
    with store.single_threaded():
        storer = Worker("harness-store")  # stores each chunk as it comes: nothing waits in front of it
        try:
            storer.submit(store.put_items, task.name, task.version, list(zip(items, variants)))
            if threaded:
                worker.submit(grade, [j for j in range(len(items)) if left[j] == 0])
                if requests and hasattr(grader, "start"):
                    worker.submit(grader.start)  # e.g. the math worker pool, started beside generation
            if requests:
                for chunk in chunks(get_backend(), requests, params, settle=settle):
                    check()
                    hand_over(chunk)
        except BaseException:
            storer.failing = worker.failing = True  # store what was generated, grade nothing more
            raise
        finally:
            at_once.set()  # what is left is written now
            try:
                storer.join()  # first: it may still hand items to the grading thread
            finally:
                worker.join()
    if not threaded:
        grade(list(range(len(items))))

    samples = [[(i, have[(p.hash, i)].gen_key) for p, i in item_slots] for item_slots in slots]
    usage = Usage.sum(usages)
    if own:
        graders.close()
    # Flagged: the items these weights were trained on (their lineage, recorded by fingerprint), or,
    # for a model with no lineage beside its weights (a served fine-tune), the items exported from the
    # training queue of the model it declares it was tuned from. A model is never flagged for items
    # exported from its own queue: exporting does not change its weights.
    contaminated = store.trained_item_ids(model_id, task.name)
    if finetuned_from:
        contaminated |= store.exported_item_ids(finetuned_from, task.name)
    summary = record_results(store, run_id, task.name, task.version, items, samples, grades, k,  # type: ignore[arg-type]
                             generated=n_missing, reused=len(items) * n - n_missing,
                             contaminated=contaminated, reports=task.reports, usage=usage,
                             conventions=conventions, fresh=fresh,
                             usages=[item_usage([have[(p.hash, i)].completion for p, i in item_slots])
                                     for item_slots in slots])
    return summary


class Graders:
    """The graders of one run, one per grader factory: tasks that grade alike (every math task with
    the default options) share one grader, so its worker pool or sandbox starts once per run."""

    def __init__(self) -> None:
        self._made: dict[Any, Grader] = {}

    def get(self, task: Task, math_options: Any = None) -> Grader:
        """The grader of `task` (a math task's under `math_options` when given: see `task_grader`)."""
        key = (task.grader, math_options if task.kind == "math" else None)
        try:
            grader = self._made.get(key)
        except TypeError:  # an unhashable factory or options: a grader of its own
            return self._made.setdefault(object(), task_grader(task, math_options))
        if grader is None:
            grader = self._made[key] = task_grader(task, math_options)
        return grader

    def close(self) -> None:
        made, self._made = self._made, {}
        for grader in made.values():
            grader.close()
