"""One run lifecycle for every command that generates or ingests: the model's row, the run's row, and
its final status (done, failed, or interrupted), whatever happens inside."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Sequence

from harness import __version__
from harness.errors import HarnessError
from harness.models import ModelSpec
from harness.store import ModelRow, RunRow, Store, new_run_id, now


def model_row(spec: ModelSpec) -> ModelRow:
    """What the store records of a model from the models file: its identity and its entry."""
    return ModelRow(model_id=spec.fingerprint(), name=spec.name, backend=spec.backend, path=spec.model,
                    params_b=spec.params_b, family=spec.family, spec=json.dumps(spec.describe()))


@contextmanager
def run_lifecycle(store: Store, model: ModelRow, *, k: int, sampling: Mapping[str, Any], tasks: Sequence[str],
                  command: str | None, source: str = "harness", regraded_from: str | None = None,
                  run_key: str | None = None) -> Iterator[str]:
    """Record the model, start a run and yield its id; the run ends `done` when the block completes,
    `interrupted` on Ctrl-C and `failed` on any other exception (which propagates). `regraded_from`:
    the run whose stored samples this one grades again; `run_key`: what makes two runs the same run
    (`runner.run_key`). A user's error (HarnessError: a model that does
    not load, an item the task lacks) raised before the run stored anything of its own leaves no run
    row, and no model row that only this run had."""
    run_id = store.start_run(RunRow(run_id=new_run_id(), model_id=model.model_id, model_name=model.name,
                                    started_at=now(), k=k, sampling=json.dumps(dict(sampling)),
                                    tasks=json.dumps(list(tasks)), command=command, harness_version=__version__,
                                    source=source, regraded_from=regraded_from, run_key=run_key), model=model)
    status: str | None = "failed"
    try:
        yield run_id
        status = "done"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except HarnessError:
        if store.discard_empty_run(run_id):
            status = None
        raise
    finally:
        if status is not None:
            store.finish_run(run_id, status)
