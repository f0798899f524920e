"""Rows of the result schema for tests, built through the typed rows of `harness.store.schema` (never
by hand-listing columns): a column added to the schema reaches every test through its default."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Sequence

from harness.store import ItemResultRow, ModelRow, RunRow, Store, TaskResultRow, new_run_id, now


def item_result(run_id: str, task: str, item_id: str, *, correct: bool, pass_at_1: float | None = None,
                k: int = 4, answer: str | None = "42", gold: str | None = "42", share: float = 1.0,
                **overrides: Any) -> ItemResultRow:
    p1 = (1.0 if correct else 0.0) if pass_at_1 is None else pass_at_1
    fields: dict[str, Any] = dict(
        run_id=run_id, task=task, task_version=1, item_id=item_id, gold=gold, n=k, n_correct=round(p1 * k),
        n_unparseable=0, n_timeout=0, maj_answer=answer, maj_correct=correct, vote_share=share, margin=0.0,
        n_classes=1, pass_at_1=p1, pass_at_k=1.0 if p1 > 0 else 0.0, maj_at_k=float(correct))
    fields.update(overrides)
    return ItemResultRow(**fields)


def task_result(items: Sequence[ItemResultRow], *, k: int = 4, generated: int = 0, reused: int = 0,
                **overrides: Any) -> TaskResultRow:
    n = len(items)
    first = items[0]
    fields: dict[str, Any] = dict(
        run_id=first.run_id, task=first.task, task_version=first.task_version, n_items=n, k=k,
        generated=generated, reused=reused, maj_at_k=sum(r.maj_correct for r in items) / n,
        pass_at_1=sum(r.pass_at_1 for r in items) / n, pass_at_k=sum(r.pass_at_k for r in items) / n,
        n_timeout=sum(r.n_timeout for r in items), n_unparseable=sum(r.n_unparseable for r in items),
        finished_at=datetime.now(), n=k)
    fields.update(overrides)
    return TaskResultRow(**fields)


def start_run(store: Store, name: str, *, k: int = 4, tasks: Sequence[str] = ("t",), params_b: float | None = None,
              family: str | None = None, spec: str | None = None, **overrides: Any) -> str:
    """Record model `name` (id `fp-NAME`) and start a run of it; returns the run id."""
    store.upsert_model(ModelRow(model_id=f"fp-{name}", name=name, backend="hf", params_b=params_b, family=family,
                                spec=spec))
    fields: dict[str, Any] = dict(run_id=new_run_id(), model_id=f"fp-{name}", model_name=name, started_at=now(), k=k,
                                  tasks=json.dumps(list(tasks)), command="test", harness_version="0")
    fields.update(overrides)
    return store.start_run(RunRow(**fields))
