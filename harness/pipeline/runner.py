"""The run loop: the only place that sequences stages.

    load items -> render prompts -> look up the cache -> generate what is missing, batch by batch,
    storing each batch as it completes -> grade every sample -> vote -> store results per item/task.

Every completion is keyed by (model fingerprint, prompt hash, sampling key, sample index), so a
rerun generates nothing already stored, a run killed at any point loses at most the batch in flight,
and raising k from 4 to 8 generates only samples 4..7. The backend is created only when something
is missing, so a fully cached rerun never loads the model.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Iterator, Mapping, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from harness import __version__
from harness.backends import Backend, make_backend
from harness.data import Source
from harness.errors import HarnessError
from harness.models import ModelSpec
from harness.records import Grade, Item, Prompt, Request, Sampling, sample_seed
from harness.pipeline.results import RunSummary, TaskSummary, record_results
from harness.store import Store
from harness.task import Task

GRADE_CHUNK = 64  # items per grader call: amortizes pools, keeps the progress bar moving


def resolve_sampling(spec: ModelSpec, task: Task, overrides: Mapping[str, Any]) -> Sampling:
    """Defaults < the model's sampling < what the task needs < command-line overrides."""
    merged: dict[str, Any] = {}
    for layer in (spec.sampling, task.sampling, {k: v for k, v in overrides.items() if v is not None}):
        merged.update(layer)
    if "stop" in merged:
        merged["stop"] = tuple(merged["stop"])
    return replace(Sampling(), **merged)


def _variants(task: Task, item: Item) -> tuple[Prompt, ...]:
    rendered = task.render(item)
    variants = (rendered,) if isinstance(rendered, Prompt) else tuple(rendered)
    if not variants:
        raise HarnessError(f"task {task.name} rendered no prompt for item {item.id}")
    return variants


class _Progress:
    """rich progress bars on stderr; silent when disabled."""

    def __init__(self, enabled: bool):
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), console=Console(stderr=True), transient=False,
        ) if enabled else None

    def __enter__(self) -> "_Progress":
        if self.bar:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar:
            self.bar.__exit__(*exc)

    def add(self, description: str, total: int) -> Callable[[int], None]:
        if not self.bar:
            return lambda n: None
        tid = self.bar.add_task(description, total=total)
        return lambda n: self.bar.advance(tid, n)


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
) -> RunSummary:
    if k < 1:
        raise HarnessError(f"k must be at least 1, got {k}")
    n = k if n is None else n
    if n < k:
        raise HarnessError(f"-n (samples per item, {n}) must be at least -k ({k})")
    overrides = dict(sampling or {})
    # Every task's data is read before anything is written or loaded: a bad file fails fast.
    loaded = [(task, task.load(source)) for task in tasks]
    for task, items in loaded:
        if not items:
            raise HarnessError(f"task {task.name} loaded no items")
    model_id = spec.fingerprint()
    store.upsert_model(model_id, spec.name, spec.backend, spec.model, spec.params_b, spec.family, spec.describe())
    run_sampling = resolve_sampling(spec, tasks[0], overrides) if tasks else Sampling()
    run_id = store.start_run(model_id, spec.name, k, run_sampling.to_json(), [t.name for t in tasks],
                             command, __version__)
    backend: Backend | None = None

    def get_backend() -> Backend:
        nonlocal backend
        if backend is None:
            backend = backend_factory(spec)
        return backend

    summaries = []
    status = "failed"
    try:
        with _Progress(progress) as bars:
            for task, items in loaded:
                summaries.append(_run_task(task, items, spec.name, model_id, run_id, k, n, store,
                                           resolve_sampling(spec, task, overrides), get_backend, bars))
        status = "done"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if backend is not None:
            backend.close()
        store.finish_run(run_id, status)
    return RunSummary(run_id, spec.name, model_id, tuple(summaries))


def _batches(requests: list[Request], size: int) -> Iterator[list[Request]]:
    """Consecutive requests holding about `size` completions each (a request is never split)."""
    batch: list[Request] = []
    count = 0
    for req in requests:
        batch.append(req)
        count += len(req.indices)
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def _run_task(task: Task, items: list[Item], model_name: str, model_id: str, run_id: str, k: int, n: int, store: Store,
              params: Sampling, get_backend: Callable[[], Backend], bars: _Progress) -> TaskSummary:
    variants = [_variants(task, it) for it in items]
    store.put_items(task.name, task.version, list(zip(items, variants)))
    skey = params.key()

    # Which (prompt, sample index) each item's k samples are: sample i uses variant i % V.
    slots = [[(v[i % len(v)], i) for i in range(n)] for v in variants]
    cached = store.cached(model_id, skey, [p.hash for v in variants for p in v], n)
    missing: dict[str, tuple[Prompt, list[int]]] = {}
    for item_slots in slots:
        for prompt, i in item_slots:
            if (prompt.hash, i) not in cached:
                entry = missing.setdefault(prompt.hash, (prompt, []))
                if i not in entry[1]:
                    entry[1].append(i)
    requests = [
        Request(prompt, tuple(idx), tuple(sample_seed(params.seed, ph, i) for i in idx))
        for ph, (prompt, idx) in missing.items()
    ]
    n_missing = sum(len(r.indices) for r in requests)
    texts: dict[tuple[str, int], tuple[str, str]] = {key: (c.gen_key, c.completion.text) for key, c in cached.items()}

    if n_missing:
        backend = get_backend()
        advance = bars.add(f"{task.name}: generating", n_missing)
        for batch in _batches(requests, max(1, backend.batch_size)):
            outs = backend.generate(batch, params)
            rows = []
            for req, comps in zip(batch, outs):
                if len(comps) != len(req.indices):
                    raise HarnessError(f"backend {backend.name} returned {len(comps)} completions for "
                                       f"{len(req.indices)} requested")
                rows += [(req.prompt.hash, i, s, c) for i, s, c in zip(req.indices, req.seeds, comps)]
            keys = store.put_generations(run_id, model_id, skey, rows)
            for (ph, i, _, c), key in zip(rows, keys):
                texts[(ph, i)] = (key, c.text)
            advance(sum(len(r.indices) for r in batch))

    # Grade every sample, a chunk of items at a time.
    grader = task.grader()
    advance = bars.add(f"{task.name}: scoring", len(items))
    grades: list[list[Grade]] = []
    try:
        for start in range(0, len(items), GRADE_CHUNK):
            chunk = range(start, min(start + GRADE_CHUNK, len(items)))
            batch = [(items[j], [texts[(p.hash, i)][1] for p, i in slots[j]]) for j in chunk]
            grades += grader.grade(batch)
            advance(len(chunk))
    finally:
        grader.close()

    samples = [[(i, texts[(p.hash, i)][0]) for p, i in item_slots] for item_slots in slots]
    summary = record_results(store, run_id, task.name, task.version, items, samples, grades, k,
                             generated=n_missing, reused=len(items) * n - n_missing,
                             contaminated=store.exported_item_ids(model_name, task.name))
    graded = list(zip(items, grades))
    return replace(summary, reports=tuple(report(graded) for report in task.reports))
