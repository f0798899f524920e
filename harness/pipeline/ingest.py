"""Store generations made elsewhere as runs, graded by the task's own grader as they are stored.

Input: JSONL, one sample per line, with `model`, `task`, `item_id`, `response`, and optionally
`sample` (default 0), `gold` (else taken from the task's own items, which needs its data),
`prompt`, and from a reasoning model `thinking` (a separate reasoning field; inline `<think>` sections
in `response` are split off by themselves), `finish` ("stop" or "length": thinking cut off by the
token limit is unfinished), `tokens`, `thinking_tokens` and `prompt_tokens`. One run is stored per model, holding every task it has lines for, so ingested models are
compared and shown like any other.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

from harness.data import Source, read_jsonl
from harness.errors import DataError, HarnessError
from harness.records import Completion, Item, Prompt, stable_hash
from harness.grading.base import Grader
from harness.pipeline.answers import conventions_of, grade_answers, task_grader
from harness.pipeline.lifecycle import run_lifecycle
from harness.pipeline.results import RunSummary, TaskSummary, record_results
from harness.store import ModelRow, Store
from harness.tasks import get_task


def ingested_model_id(model: str) -> str:
    return stable_hash({"ingested": model}, 20)


def ingest_file(store: Store, path: Path, *, params_b: float | None = None, family: str | None = None,
                source: Source | None = None, origin: str = "ingest", again: bool = False,
                math_options: Any = None) -> list[RunSummary]:
    """Validate every line, then store one run per model. A file whose contents were ingested
    before is refused (DataError) unless `again`. `math_options` grades math tasks (named
    conventions and flags); None: each task's own grader."""
    lines: list[tuple[int, dict[str, Any]]] = []
    for lineno, row in enumerate(read_jsonl(path), 1):
        missing = [f for f in ("model", "task", "item_id", "response") if row.get(f) is None]
        if missing:
            raise DataError(f"{path}:{lineno}: missing field(s) {', '.join(missing)}")
        _check_types(row, f"{path}:{lineno}")
        if row.get("thinking") is not None and not isinstance(row["thinking"], str):
            raise DataError(f"{path}:{lineno}: thinking must be a string")
        if row.get("finish", "stop") not in ("stop", "length"):
            raise DataError(f"{path}:{lineno}: finish must be \"stop\" or \"length\", got {row['finish']!r}")
        for f in ("tokens", "thinking_tokens", "prompt_tokens"):
            if row.get(f) is not None and (not isinstance(row[f], int) or isinstance(row[f], bool) or row[f] < 0):
                raise DataError(f"{path}:{lineno}: {f} must be a whole number of tokens")
        lines.append((lineno, row))
    if not lines:
        raise DataError(f"{path}: no lines to ingest")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    if not again:
        before = store.runs_with_sampling_key(f"ingest:{digest}") if store.path.exists() else []
        if before:
            raise DataError(f"{path} was ingested before (same contents): run(s) {', '.join(before)} in {store.path}; "
                            "pass --again to store it as one more run")
    return ingest_rows(store, lines, where=str(path), batch_key=f"ingest:{digest}", params_b=params_b,
                       family=family, source=source or Source(), origin=origin, math_options=math_options)


# Field -> (accepted JSON types, how to say it). bool is excluded from numbers: `"sample": true` is a mistake.
_FIELD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "model": ((str,), "a string"),
    "task": ((str,), "a string"),
    "item_id": ((str, int), "a string or an integer"),
    "response": ((str,), "a string"),
    "sample": ((int,), "an integer >= 0"),
    "gold": ((str, int, float), "a string or a number"),
    "prompt": ((str,), "a string"),
}


def _check_types(row: dict[str, Any], where: str) -> None:
    """One line's fields have the types ingest needs (checked before anything is stored)."""
    for name, (types, what) in _FIELD_TYPES.items():
        value = row.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, types) or (name == "sample" and isinstance(value, int) and value < 0):
            raise DataError(f"{where}: {name} must be {what}, got {value!r}")
        if name in ("model", "task") and not str(value).strip():
            raise DataError(f"{where}: {name} must not be empty")


def ingest_rows(store: Store, lines: Sequence[tuple[int, dict[str, Any]]], *, where: str, batch_key: str,
                params_b: float | None, family: str | None, source: Source, origin: str,
                math_options: Any = None) -> list[RunSummary]:
    by_model: dict[str, dict[str, list[tuple[int, dict[str, Any]]]]] = defaultdict(lambda: defaultdict(list))
    for lineno, row in lines:
        by_model[str(row["model"])][str(row["task"])].append((lineno, row))
    for tasks in by_model.values():
        for name in tasks:
            get_task(name)  # unknown task names fail before anything is written
    # Every line's item is found (or its gold given) before anything is written: a line naming an
    # item the task lacks fails with no run stored.
    prepared = {model: {name: _prepare_task(name, rows, where, source) for name, rows in sorted(tasks.items())}
                for model, tasks in by_model.items()}
    runs = []
    for model, tasks in by_model.items():
        model_id = ingested_model_id(model)
        record = ModelRow(model_id=model_id, name=model, backend=origin, params_b=params_b, family=family,
                          spec=json.dumps({"name": model, "origin": origin}))
        k = max(_samples_per_item(rows) for rows in tasks.values())
        with run_lifecycle(store, record, k=k, sampling={"source": origin}, tasks=sorted(tasks),
                           command=f"harness ingest {where}", source=origin) as run_id:
            summaries = [store_graded(store, run_id, model_id, name, get_task(name).version, batch_key, *parts,
                                      task_grader(get_task(name), math_options))
                         for name, parts in prepared[model].items()]
        runs.append(RunSummary(run_id, model, model_id, tuple(summaries)))
    return runs


def _samples_per_item(rows: Sequence[tuple[int, dict[str, Any]]]) -> int:
    counts: dict[str, int] = defaultdict(int)
    for _, row in rows:
        counts[str(row["item_id"])] += 1
    return max(counts.values())


def _prepare_task(name: str, rows: Sequence[tuple[int, dict[str, Any]]], where: str, source: Source,
                  ) -> tuple[list[Item], list[Prompt], list[list[tuple[int, Completion]]]]:
    """One task's lines as items, prompts and each item's samples; reads the task's items where a
    line gives no gold. Writes nothing."""
    task = get_task(name)
    known: dict[str, Item] | None = None
    grouped: dict[str, dict[int, tuple[int, dict[str, Any]]]] = defaultdict(dict)
    for lineno, row in rows:
        item_id, sample = str(row["item_id"]), int(row.get("sample", 0))
        if sample in grouped[item_id]:
            raise DataError(f"{where}:{lineno}: model {row['model']!r} task {name} item {item_id} sample {sample} "
                            f"already given on line {grouped[item_id][sample][0]}")
        grouped[item_id][sample] = (lineno, row)
    items, prompts, samples = [], [], []
    for item_id, by_sample in grouped.items():
        first_line, first = next(iter(by_sample.values()))
        gold = first.get("gold")
        if gold is None:
            if known is None:
                try:
                    # Outside generations saw the dataset's own choice order: no shuffle, one ordering.
                    plain = {o: v for o, v in (("shuffle", False), ("permutations", 1)) if task.takes(o)}
                    known = {it.id: it for it in task.configure(plain).load_items(Source(source.data_dir, None))}
                except HarnessError as exc:
                    raise DataError(f"{where}:{first_line}: no gold given, and task {name}'s items could not be "
                                    f"loaded to find it ({exc})") from None
            if item_id not in known:
                raise DataError(f"{where}:{first_line}: no gold given and task {name} has no item {item_id!r}")
            item = known[item_id]
        else:
            base = known.get(item_id) if known else None
            item = Item(item_id, str(gold), dict(base.fields) if base else {}, dict(base.meta) if base else {})
        prompt = Prompt(text=str(first["prompt"])) if first.get("prompt") is not None else \
            Prompt(text=f"<prompt not recorded: {name} item {item_id}>")
        items.append(item)
        prompts.append(prompt)
        samples.append([(i, _completion(by_sample[i][1])) for i in sorted(by_sample)])
    return items, prompts, samples


def _completion(row: dict[str, Any]) -> Completion:
    return Completion(row["response"], row.get("finish") or "stop", row.get("tokens"), row.get("prompt_tokens"),
                      None, row.get("thinking"), row.get("thinking_tokens"))


def store_graded(store: Store, run_id: str, model_id: str, task: str, version: int, sampling_key: str,
                 items: Sequence[Item], prompts: Sequence[Prompt],
                 samples: Sequence[Sequence[tuple[int, str | Completion]]], grader: Grader) -> TaskSummary:
    """Store completions made elsewhere for one task of a run, then grade their final answers, vote
    and record them. `samples[j]` is item j's (sample index, text or completion) pairs; they are kept
    under `sampling_key`, which no `harness run` uses, so a run never takes them for its own samples.
    Inline thinking is split off with the default delimiters. Closes the grader."""
    store.put_items(task, version, [(it, (p,)) for it, p in zip(items, prompts)])
    comps = [[(i, c if isinstance(c, Completion) else Completion(c, "stop")) for i, c in pairs] for pairs in samples]
    gens = [(p.hash, i, None, c) for p, pairs in zip(prompts, comps) for i, c in pairs]
    keys = iter(store.put_generations(run_id, model_id, sampling_key, gens))
    sample_keys = [[(i, next(keys)) for i, _ in pairs] for pairs in comps]
    conventions = conventions_of(grader)
    try:
        answered = grade_answers(grader, [(it, [c for _, c in pairs]) for it, pairs in zip(items, comps)])
    finally:
        grader.close()
    return record_results(store, run_id, task, version, items, sample_keys, answered.grades,
                          max(len(pairs) for pairs in samples), generated=0, reused=len(gens), usage=answered.usage,
                          conventions=conventions)
