"""Teachable items: what the model fails but could learn, queued in the store and exported as SFT data.

An item is teachable for a model when its majority answer is wrong and either
- some of its own samples are right (0 < pass rate < 1: the knowledge is there, not yet reliable), or
- a stronger model solves it reliably (teacher pass rate >= `min_teacher_rate`).
Items nobody solves (perhaps a wrong key) and items the model already solves by majority are not.
Exported items are marked in the queue, so a later score on them is flagged as possibly contaminated.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from harness.errors import HarnessError
from harness.store import Store

MIN_TEACHER_RATE = 0.75


@dataclass(frozen=True, slots=True)
class Teachable:
    task: str
    task_version: int
    item_id: str
    reason: str  # own_samples | teacher
    pass_rate: float
    teacher_pass_rate: float | None


def teachable(own: Sequence[Mapping[str, Any]], teacher: Sequence[Mapping[str, Any]] | None = None,
              min_teacher_rate: float = MIN_TEACHER_RATE) -> list[Teachable]:
    """The rule above, over per-item result rows (`item_results`) of one task."""
    by_id = {r["item_id"]: r for r in (teacher or [])}
    out = []
    for r in own:
        if r["maj_correct"]:
            continue
        rate = r["pass_at_1"]
        t = by_id.get(r["item_id"])
        t_rate = t["pass_at_1"] if t is not None else None
        if 0.0 < rate < 1.0:
            reason = "own_samples"
        elif t_rate is not None and t_rate >= min_teacher_rate:
            reason = "teacher"
        else:
            continue
        out.append(Teachable(r["task"], r["task_version"], r["item_id"], reason, rate, t_rate))
    return out


@dataclass(frozen=True, slots=True)
class QueueReport:
    task: str
    n_items: int
    own_samples: int
    teacher: int
    run_id: str
    teacher_run_id: str | None


def queue_teachable(store: Store, model: str, *, teacher: str | None = None, tasks: Sequence[str] = (),
                    min_teacher_rate: float = MIN_TEACHER_RATE) -> list[QueueReport]:
    """Queue the teachable items of `model`'s newest run of each task (default: every task it has)."""
    tasks = list(tasks) or store.tasks_of_model(model)
    if not tasks:
        raise HarnessError(f"no finished runs of model {model!r} in {store.path}: run `harness run --model {model}` first")
    reports = []
    for task in tasks:
        run_id, own = store.latest_item_results(model, task)
        if run_id is None:
            raise HarnessError(f"model {model!r} has no finished run of task {task!r} in {store.path}")
        t_run, t_rows = (store.latest_item_results(teacher, task) if teacher else (None, None))
        if teacher and t_run is None:
            raise HarnessError(f"teacher {teacher!r} has no finished run of task {task!r} in {store.path}")
        found = teachable(own, t_rows, min_teacher_rate)
        store.queue_items([{
            "model_name": model, "task": x.task, "task_version": x.task_version, "item_id": x.item_id,
            "reason": x.reason, "pass_rate": x.pass_rate, "teacher": teacher if x.reason == "teacher" else None,
            "teacher_pass_rate": x.teacher_pass_rate, "run_id": run_id,
            "teacher_run_id": t_run if x.reason == "teacher" else None,
        } for x in found])
        reports.append(QueueReport(task, len(own), sum(x.reason == "own_samples" for x in found),
                                   sum(x.reason == "teacher" for x in found), run_id, t_run))
    return reports


def _chat(prompt_json: str, response: str) -> list[dict[str, str]]:
    p = json.loads(prompt_json)
    msgs = p.get("messages") or [{"role": "user", "content": p["text"]}]
    return [*({"role": m["role"], "content": m["content"]} for m in msgs), {"role": "assistant", "content": response}]


def _correct_samples(store: Store) -> Callable[[str, str], dict[str, list[dict[str, Any]]]]:
    """Correct samples of a run's task by item, shortest first (read once per run and task)."""
    cache: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}

    def correct(run_id: str, task: str) -> dict[str, list[dict[str, Any]]]:
        if (run_id, task) not in cache:
            grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in store.correct_samples(run_id, task):
                grouped[row["item_id"]].append(row)
            cache[(run_id, task)] = grouped
        return cache[(run_id, task)]

    return correct


def _example(best: Mapping[str, Any], **fields: Any) -> str:
    return json.dumps({"messages": _chat(best["prompt"], best["text"]),
                       "prompt_text": json.loads(best["prompt"]).get("text"), **fields}, ensure_ascii=False) + "\n"


def _write_atomic(out: Path, lines: Sequence[str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(out)


def export_sft(store: Store, model: str, out: Path, *, include_exported: bool = False) -> int:
    """Write one chat-format SFT example per queued item (its own shortest correct sample, else the
    teacher's) to `out` as JSONL, and mark the items exported. Returns the number written.
    Each line also carries `prompt_text`, the prompt as a model without a chat template sees it."""
    queued = store.queue(model, pending_only=not include_exported)
    correct = _correct_samples(store)
    written: list[tuple[str, str]] = []
    lines = []
    for q in queued:
        source, rows = "own", correct(q["run_id"], q["task"]).get(q["item_id"], [])
        if not rows and q["teacher_run_id"]:
            source, rows = f"teacher:{q['teacher']}", correct(q["teacher_run_id"], q["task"]).get(q["item_id"], [])
        if not rows:
            continue
        best = rows[0]  # shortest correct completion, lowest sample index on ties
        lines.append(_example(best, task=q["task"], item_id=q["item_id"], source=source, reason=q["reason"], model=model))
        written.append((q["task"], q["item_id"]))
    _write_atomic(out, lines)
    store.mark_exported(model, written, str(out))
    return len(written)


def export_random(store: Store, model: str, task: str, n: int, out: Path, *, teacher: str | None = None,
                  seed: int = 0, exclude: Sequence[str] = ()) -> list[str]:
    """The control of a teachable export: `n` items of `model`'s newest run of `task` drawn at random
    (not selected as teachable), each with the same choice of sample (own shortest correct, else the
    teacher's); items with no correct sample are passed over. Nothing is queued or marked exported:
    the control is not a training queue. Returns the item ids written, in order."""
    import random

    run_id, own = store.latest_item_results(model, task)
    if run_id is None:
        raise HarnessError(f"model {model!r} has no finished run of task {task!r} in {store.path}")
    t_run = store.latest_item_results(teacher, task)[0] if teacher else None
    correct = _correct_samples(store)
    ids = sorted(r["item_id"] for r in own if r["item_id"] not in set(exclude))
    random.Random(seed).shuffle(ids)
    lines, picked = [], []
    for item_id in ids:
        if len(picked) == n:
            break
        source, rows = "own", correct(run_id, task).get(item_id, [])
        if not rows and t_run:
            source, rows = f"teacher:{teacher}", correct(t_run, task).get(item_id, [])
        if rows:
            lines.append(_example(rows[0], task=task, item_id=item_id, source=source, reason="random", model=model))
            picked.append(item_id)
    _write_atomic(out, lines)
    return picked
