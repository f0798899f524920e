"""Grade a stored run again, under other conventions, from its stored samples: nothing is generated.

The regrade is a run of its own (source `regrade`, `regraded_from` the original), with the original's
model, k, sampling and tasks, and its samples' generation keys, so both stay side by side in the store
and on the leaderboard, each with the conventions it was graded under, and with the original's
contamination flags. Items come from the store
(gold, fields, meta as they were run); thinking is split with the format recorded for the model.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from harness.errors import HarnessError, UnknownTask
from harness.pipeline.answers import Usage, conventions_of, grade_answers, task_grader
from harness.pipeline.lifecycle import run_lifecycle
from harness.pipeline.results import RunSummary, TaskSummary, record_results
from harness.records import Completion, Item
from harness.store import ModelRow, Store
from harness.thinking import ThinkingFormat

GRADE_CHUNK = 64


def _completion(row: dict[str, Any]) -> Completion:
    return Completion(row["text"], row["finish"], row["tokens"], row["prompt_tokens"], row["latency_s"],
                      row["thinking"], row["thinking_tokens"], row["forced"])


def _items_and_samples(rows: Sequence[dict[str, Any]]) -> tuple[list[Item], list[list[dict[str, Any]]]]:
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(str(r["item_id"]), []).append(r)
    items = [Item(id=item_id, gold=rs[0]["gold"], fields=json.loads(rs[0]["fields"] or "{}"),
                  meta=json.loads(rs[0]["meta"] or "{}")) for item_id, rs in by.items()]
    return items, list(by.values())


def regrade(store: Store, run_id: str, math_options: Any, *, tasks: Sequence[str] | None = None,
            command: str | None = None) -> RunSummary:
    """A new run holding `run_id`'s samples graded again (math tasks under `math_options`)."""
    from harness.tasks import get_task

    row = store.run_row(run_id)
    if row is None:
        raise HarnessError(f"no run {run_id!r} in {store.path} (see `harness runs`)")
    done = [t["task"] for t in store.task_results(run_id)]
    chosen = list(tasks) if tasks else done
    missing = [t for t in chosen if t not in done]
    if missing:
        raise HarnessError(f"run {run_id} has no results for {', '.join(missing)} (it has {', '.join(done) or 'none'})")
    resolved = []
    for name in chosen:
        try:
            resolved.append(get_task(name))
        except UnknownTask:
            raise HarnessError(f"task {name!r} of run {run_id} is not a registered task here: cannot regrade it") from None
    spec = json.loads(row["spec"]) if row.get("spec") else {}
    fmt = ThinkingFormat.from_table(spec.get("thinking"))
    model = ModelRow(model_id=row["model_id"], name=row["model_name"], backend=row["backend"] or "unknown",
                     path=row["path"], params_b=row["params_b"], family=row["family"], spec=row.get("spec"))
    summaries: list[TaskSummary] = []
    with run_lifecycle(store, model, k=row["k"], sampling=json.loads(row["sampling"] or "{}"), tasks=chosen,
                       command=command, source="regrade", regraded_from=run_id) as new_id:
        for task in resolved:
            items, samples = _items_and_samples(store.scored_samples(run_id, task.name))
            if any(r["text"] is None for rs in samples for r in rs):
                raise HarnessError(f"run {run_id}, task {task.name}: some scored samples have no stored text")
            grader = task_grader(task, math_options)
            conventions = conventions_of(grader)
            grades, usages = [], []
            try:
                for start in range(0, len(items), GRADE_CHUNK):
                    chunk = range(start, min(start + GRADE_CHUNK, len(items)))
                    answered = grade_answers(grader, [(items[j], [_completion(r) for r in samples[j]]) for j in chunk], fmt)
                    grades += answered.grades
                    usages.append(answered.usage)
            finally:
                grader.close()
            version = samples[0][0]["task_version"] if samples else task.version
            summaries.append(record_results(
                store, new_id, task.name, version, items, [[(r["sample_index"], r["gen_key"]) for r in rs] for rs in samples],
                grades, row["k"], generated=0, reused=sum(len(rs) for rs in samples),
                contaminated=store.contaminated_items(run_id, task.name), reports=task.reports,
                usage=Usage.sum(usages), conventions=conventions))
    return RunSummary(new_id, row["model_name"], row["model_id"], tuple(summaries))
