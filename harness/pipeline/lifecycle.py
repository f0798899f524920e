"""One run lifecycle for every command that generates or ingests: the model's row, the run's row, and
its final status (done, failed, or interrupted), whatever happens inside."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from harness import __version__
from harness.models import ModelSpec
from harness.store import Store


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """What the store records of a model: its identity (`model_id`) and what users call it."""

    model_id: str
    name: str
    backend: str
    path: str | None = None
    params_b: float | None = None
    family: str | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: ModelSpec) -> "ModelRecord":
        return cls(spec.fingerprint(), spec.name, spec.backend, spec.model, spec.params_b, spec.family,
                   spec.describe())


@contextmanager
def run_lifecycle(store: Store, model: ModelRecord, *, k: int, sampling: Mapping[str, Any], tasks: Sequence[str],
                  command: str | None, source: str = "harness") -> Iterator[str]:
    """Record the model, start a run and yield its id; the run ends `done` when the block completes,
    `interrupted` on Ctrl-C and `failed` on any other exception (which propagates)."""
    store.upsert_model(model.model_id, model.name, model.backend, model.path, model.params_b, model.family,
                       dict(model.spec))
    run_id = store.start_run(model.model_id, model.name, k, dict(sampling), list(tasks), command, __version__,
                             source=source)
    status = "failed"
    try:
        yield run_id
        status = "done"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        store.finish_run(run_id, status)
