"""Teachable items: what the model fails but could learn, queued in the store and exported as SFT data.

An item is teachable for a model when its majority answer is wrong and either
- some of its own samples are right (0 < pass rate < 1: the knowledge is there, not yet reliable), or
- a stronger model solves it reliably (teacher pass rate >= `min_teacher_rate`).
Items nobody solves (perhaps a wrong key) and items the model already solves by majority are not.
Exported items are marked in the queue, so a later score on them is flagged as possibly contaminated.

Reasoning models: a sample whose thinking never closed (`unfinished`) gave no answer, so it is never
evidence that a model knows an item: it is not a correct sample of the student or of the teacher,
an item is not "already solved" by a majority that unfinished samples outnumber, and no SFT example
is made from it (the thinking is split again at export, so a stale verdict cannot slip one in).
An SFT example from a thinking model keeps its thinking in the assistant turn (`thinking="keep"`,
the default: `<think>...</think>` then the answer, the form R1's distills were trained on) or drops
it (`"drop"`: only the final answer).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence

from harness.errors import HarnessError
from harness.items_io import write_atomic
from harness.sft_example import SftExample
from harness.store import QueueRow, Store, now
from harness.thinking import DEFAULT, Split, ThinkingFormat, recorded_format, split

ThinkingMode = Literal["keep", "drop"]
THINKING_MODES: tuple[ThinkingMode, ...] = ("keep", "drop")

MIN_TEACHER_RATE = 0.75


@dataclass(frozen=True, slots=True)
class Teachable:
    task: str
    task_version: int
    item_id: str
    reason: str  # own_samples | teacher
    pass_rate: float
    teacher_pass_rate: float | None


def solved(r: Mapping[str, Any]) -> bool:
    """Whether an item result shows the model solves the item: its majority answer is right, and
    its correct samples outnumber those that never finished thinking (unfinished samples do not
    vote, so a lone right answer among them would otherwise make a 'majority')."""
    if not r["maj_correct"]:
        return False
    unfinished = int(r.get("n_unfinished") or 0)
    return unfinished == 0 or int(r["n_correct"]) > unfinished


def teachable(own: Sequence[Mapping[str, Any]], teacher: Sequence[Mapping[str, Any]] | None = None,
              min_teacher_rate: float = MIN_TEACHER_RATE, band: tuple[float, float] = (0.0, 1.0)) -> list[Teachable]:
    """The rule above, over per-item result rows (`item_results`) of one task. Pass rates count
    correct samples only (an unfinished one is not correct). `band`: the open interval of the
    model's own pass rate that makes an item teachable on its own samples (0.2-0.8, say, as Phi-4's
    pivotal-token search used; the default is any rate strictly between 0 and 1)."""
    lo, hi = band
    if not 0.0 <= lo < hi <= 1.0:
        raise HarnessError(f"a pass-rate band is 0 <= low < high <= 1, got {band}")
    by_id = {r["item_id"]: r for r in (teacher or [])}
    out = []
    for r in own:
        if solved(r):
            continue
        rate = r["pass_at_1"]
        t = by_id.get(r["item_id"])
        t_rate = t["pass_at_1"] if t is not None else None
        if lo < rate < hi:
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
    given = list(tasks)
    tasks = given or store.tasks_of_model(model)
    if not tasks:
        raise HarnessError(f"no finished runs of model {model!r} in {store.path}: run `harness run --model {model}` first")
    # Every task's runs are found before anything is queued: a missing one queues nothing.
    found_runs = []
    for task in tasks:
        run_id, own = _latest(store, model, task)
        if run_id is None:
            raise HarnessError(f"model {model!r} has no finished run of task {task!r} in {store.path}")
        t_run, t_rows = _latest(store, teacher, task) if teacher else (None, None)
        if teacher and t_run is None:
            shared = [t for t in store.tasks_of_model(model) if t in set(store.tasks_of_model(teacher))]
            hint = (f"; pass -t {','.join(shared)} for the task(s) both have" if shared else
                    f"; the two share no task: run `harness run --model {teacher} -t {task}` first")
            default = "" if given else f" (without -t, every task {model!r} has runs of is taken)"
            raise HarnessError(f"teacher {teacher!r} has no finished run of task {task!r} in {store.path}"
                               f"{default}{hint}")
        found_runs.append((task, run_id, own, t_run, t_rows))
    reports = []
    for task, run_id, own, t_run, t_rows in found_runs:
        found = teachable(own, t_rows, min_teacher_rate)
        queued_at = now()
        store.queue_items([QueueRow(
            model_name=model, task=x.task, task_version=x.task_version, item_id=x.item_id, reason=x.reason,
            pass_rate=x.pass_rate, teacher=teacher if x.reason == "teacher" else None,
            teacher_pass_rate=x.teacher_pass_rate, run_id=run_id,
            teacher_run_id=t_run if x.reason == "teacher" else None, queued_at=queued_at) for x in found])
        reports.append(QueueReport(task, len(own), sum(x.reason == "own_samples" for x in found),
                                   sum(x.reason == "teacher" for x in found), run_id, t_run))
    return reports


def _latest(store: Store, model: str, task: str) -> tuple[str | None, list[dict[str, Any]]]:
    """The run and per-item result rows of `model`'s latest finished run of `task` (the rows of
    `harness.analysis.results`' query)."""
    rows = store.latest_results([model], [task])
    return (str(rows[0]["run_id"]) if rows else None), rows


def _correct_samples(store: Store, thinking: ThinkingMode = "keep") -> Callable[[str, str], dict[str, list[dict[str, Any]]]]:
    """Correct samples of a run's task by item, shortest first (read once per run and task), each
    with its assistant turn (`response`) made for `thinking`. A sample whose thinking never closed
    is left out whatever its stored verdict says."""
    cache: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}

    def correct(run_id: str, task: str) -> dict[str, list[dict[str, Any]]]:
        if (run_id, task) not in cache:
            fmt = recorded_format(store.run_model_spec(run_id))
            grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in store.correct_samples(run_id, task):
                s = split(row["text"], row["finish"], row["thinking"], fmt)
                if s.unfinished:
                    continue
                grouped[row["item_id"]].append({**row, "response": _response(row["text"], s, fmt, thinking)})
            cache[(run_id, task)] = grouped
        return cache[(run_id, task)]

    return correct


def _response(text: str, s: Split, fmt: ThinkingFormat, thinking: ThinkingMode) -> str:
    """The assistant turn of a sample: without thinking, its text as generated; with thinking, the
    thinking between the model's tags (`<think>` for a separate field or a model without inline
    tags) and then the answer, or only the answer."""
    if s.thinking is None:
        return text
    if thinking == "drop":
        return s.answer.strip()
    open_, close = (fmt.open, fmt.close) if fmt.open and fmt.close else (DEFAULT.open, DEFAULT.close)
    return f"{open_}{s.thinking}{close}{s.answer}"


def _example(best: Mapping[str, Any], **origin: Any) -> str:
    """The SFT line (`harness.sft_example`) of a stored sample: its prompt's turns, then its response."""
    p = json.loads(best["prompt"])
    turns = p.get("messages") or [{"role": "user", "content": p["text"]}]
    return SftExample((*({"role": m["role"], "content": m["content"]} for m in turns),
                       {"role": "assistant", "content": best["response"]}), p.get("text"), **origin).line()


def write_sft_line(prompt: Any, answer: str, **fields: Any) -> str:
    """One line of the SFT export format for a rendered prompt (`records.Prompt`) and an answer: the
    prompt's turns then the assistant's, `prompt_text` (the prompt a plain-text model sees), and
    `fields` (task, item_id, gold, source, reason, ...)."""
    return _example({"prompt": json.dumps(prompt.to_json(), ensure_ascii=False), "response": answer}, **fields)


def export_sft(store: Store, model: str, out: Path, *, include_exported: bool = False,
               thinking: ThinkingMode = "keep") -> int:
    """Write one chat-format SFT example per queued item (its own shortest correct sample, else the
    teacher's) to `out` as JSONL, and mark the items exported. Returns the number written.
    Each line also carries `prompt_text`, the prompt as a model without a chat template sees it.
    `thinking`: keep a thinking model's thinking in the assistant turn, or drop it (see above)."""
    if thinking not in THINKING_MODES:
        raise HarnessError(f"thinking must be one of {', '.join(THINKING_MODES)}, got {thinking!r}")
    queued = store.queue(model, pending_only=not include_exported)
    correct = _correct_samples(store, thinking)
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
    write_atomic(out, "".join(lines))
    store.mark_exported(model, written, str(out))
    return len(written)


def export_items(store: Store, run_id: str, task: str, picks: Sequence[tuple[str, str]], out: Path, *,
                 teacher_run_id: str | None = None, teacher: str | None = None,
                 reference: Callable[[str], tuple[Any, str] | None] | None = None, model: str | None = None,
                 thinking: ThinkingMode = "keep") -> list[tuple[str, str]]:
    """One SFT example per picked (item id, reason), written to `out`: the model's own shortest
    correct sample in `run_id`, else the teacher's in `teacher_run_id`, else the task's reference
    solution (`reference(item_id)` gives the item's prompt and the answer text). Items with none of
    the three are passed over. Nothing is queued or marked exported (the loop's arms are not a
    queue). Returns (item id, source) for every example written, in order."""
    correct = _correct_samples(store, thinking)
    lines, written = [], []
    for item_id, reason in picks:
        source, rows = "own", correct(run_id, task).get(item_id, [])
        if not rows and teacher_run_id:
            source, rows = f"teacher:{teacher}", correct(teacher_run_id, task).get(item_id, [])
        if not rows and reference is not None:
            ref = reference(item_id)
            if ref is not None:
                prompt, answer = ref
                source, rows = "reference", [{"prompt": json.dumps(prompt.to_json(), ensure_ascii=False), "response": answer}]
        if rows:
            lines.append(_example(rows[0], task=task, item_id=item_id, source=source, reason=reason, model=model))
            written.append((item_id, source))
    write_atomic(out, "".join(lines))
    return written
