"""The run loop: the only place that sequences stages.

    load items -> render prompts -> look up the cache -> generate what is missing, batch by batch,
    storing each batch as it completes -> grade every sample -> vote -> store results per item/task.

Every completion is keyed by (model fingerprint, prompt hash, sampling key, sample index), so a
rerun generates nothing already stored, a run killed at any point loses at most the batch in flight,
and raising k from 4 to 8 generates only samples 4..7. The backend is created only when something
is missing, so a fully cached rerun never loads the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Mapping, Sequence

import pyarrow as pa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from . import __version__
from .backends import Backend, make_backend
from .data import Source
from .errors import HarnessError
from .models import ModelSpec
from .records import Grade, Item, Prompt, Request, Sampling, sample_seed
from .store import Store
from .task import Task
from .vote import Vote, pass_at_k, vote

GRADE_CHUNK = 64  # items per grader call: amortizes pools, keeps the progress bar moving


@dataclass(frozen=True, slots=True)
class TaskSummary:
    task: str
    version: int
    n_items: int
    k: int
    generated: int
    reused: int
    maj_at_k: float
    pass_at_1: float
    pass_at_k: float
    n_timeout: int
    n_unparseable: int

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task, "version": self.version, "n_items": self.n_items, "k": self.k,
            "generated": self.generated, "reused": self.reused, "maj_at_k": self.maj_at_k,
            "pass_at_1": self.pass_at_1, "pass_at_k": self.pass_at_k, "n_timeout": self.n_timeout,
            "n_unparseable": self.n_unparseable,
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    model: str
    model_id: str
    tasks: tuple[TaskSummary, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "model": self.model, "model_id": self.model_id,
                "tasks": [t.to_json() for t in self.tasks]}


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
    sampling: Mapping[str, Any] | None = None,
    backend_factory: Callable[[ModelSpec], Backend] = make_backend,
    progress: bool = True,
    command: str | None = None,
) -> RunSummary:
    if k < 1:
        raise HarnessError(f"k must be at least 1, got {k}")
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
                summaries.append(_run_task(task, items, model_id, run_id, k, store,
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


def _run_task(task: Task, items: list[Item], model_id: str, run_id: str, k: int, store: Store,
              params: Sampling, get_backend: Callable[[], Backend], bars: _Progress) -> TaskSummary:
    variants = [_variants(task, it) for it in items]
    store.put_items(task.name, task.version, list(zip(items, variants)))
    skey = params.key()

    # Which (prompt, sample index) each item's k samples are: sample i uses variant i % V.
    slots = [[(v[i % len(v)], i) for i in range(k)] for v in variants]
    cached = store.cached(model_id, skey, [p.hash for v in variants for p in v], k)
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

    votes = [vote(g) for g in grades]
    summary = _summarize(task, items, votes, k, n_missing, len(items) * k - n_missing)
    store.put_results(run_id, task.name, task.version,
                      _score_table(run_id, task, items, slots, texts, grades),
                      _item_table(run_id, task, items, votes, k), summary.to_json())
    return summary


def _summarize(task: Task, items: Sequence[Item], votes: Sequence[Vote], k: int, generated: int,
               reused: int) -> TaskSummary:
    n = len(items)
    return TaskSummary(
        task=task.name, version=task.version, n_items=n, k=k, generated=generated, reused=reused,
        maj_at_k=sum(v.correct for v in votes) / n,
        pass_at_1=sum(v.pass_at_1 for v in votes) / n,
        pass_at_k=sum(pass_at_k(v.n, v.n_correct, k) for v in votes) / n,
        n_timeout=sum(v.n_timeout for v in votes),
        n_unparseable=sum(v.n_unparseable for v in votes),
    )


def _score_table(run_id, task, items, slots, texts, grades) -> pa.Table:
    cols: dict[str, list] = {c: [] for c in ("run_id", "task", "item_id", "sample_index", "gen_key", "extracted",
                                             "canonical", "verdict", "cls", "detail")}
    for item, item_slots, item_grades in zip(items, slots, grades):
        for (prompt, i), g in zip(item_slots, item_grades):
            for col, val in (("run_id", run_id), ("task", task.name), ("item_id", item.id), ("sample_index", i),
                             ("gen_key", texts[(prompt.hash, i)][0]), ("extracted", g.extracted),
                             ("canonical", g.canonical), ("verdict", g.verdict), ("cls", g.cls),
                             ("detail", g.detail)):
                cols[col].append(val)
    cols["sample_index"] = pa.array(cols["sample_index"], pa.int32())
    cols["cls"] = pa.array(cols["cls"], pa.int32())
    for c in ("extracted", "canonical", "detail"):
        cols[c] = pa.array(cols[c], pa.string())
    return pa.table(cols)


def _item_table(run_id, task, items, votes, k) -> pa.Table:
    return pa.table({
        "run_id": [run_id] * len(items),
        "task": [task.name] * len(items),
        "task_version": pa.array([task.version] * len(items), pa.int32()),
        "item_id": [it.id for it in items],
        "gold": [it.gold for it in items],
        "n": pa.array([v.n for v in votes], pa.int32()),
        "n_correct": pa.array([v.n_correct for v in votes], pa.int32()),
        "n_unparseable": pa.array([v.n_unparseable for v in votes], pa.int32()),
        "n_timeout": pa.array([v.n_timeout for v in votes], pa.int32()),
        "maj_answer": pa.array([v.answer for v in votes], pa.string()),
        "maj_correct": [v.correct for v in votes],
        "vote_share": [v.share for v in votes],
        "margin": [v.margin for v in votes],
        "n_classes": pa.array([v.n_classes for v in votes], pa.int32()),
        "pass_at_1": [v.pass_at_1 for v in votes],
        "pass_at_k": [pass_at_k(v.n, v.n_correct, k) for v in votes],
    })
