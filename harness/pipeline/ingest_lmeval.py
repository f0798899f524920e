"""lm-eval results in: what `lm_eval --output_path DIR --log_samples` wrote, stored as harness runs.

lm-eval writes, per model folder, `results_<date>.json` (the configs of its tasks, their versions,
its own metrics) and one `samples_<task>_<date>.jsonl` per task: one line per document per filter,
each holding the document, its target, the prompt (`arguments`) and every repeat in `resps`.

Each results file becomes one run (source `lm_eval`) holding each of its `generate_until` tasks as
`lm_eval:<task>`, with lm-eval's `doc_id`s as item ids, so it lines up item by item with
`harness run --task lm_eval:<task>` runs in `compare` and the leaderboard. Every repeat is stored as
a generation and graded on its own with the task's first filter and metric, rebuilt from the config
in the results file (harness.tasks._lmeval.scorer_from_config), so pass@1, pass@k and maj@k mean what
they mean for any harness run. lm-eval's own reported numbers are kept in the run's `sampling` JSON
under `lm_eval_results`.

Ingested generations get a sampling key of their own (`lm_eval:...`): they are never served as the
harness's cached samples, whose seeds and sampling they need not share (lm-eval sends one seed to
every repeat of a server request, for one).
Refused: tasks whose output_type is not generate_until (they log log-probabilities, not text), and
results without their samples files (run lm_eval with --log_samples).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.data import read_jsonl
from harness.errors import DataError, HarnessError, UnknownModel
from harness.pipeline.ingest import ingested_model_id, store_graded
from harness.tasks._lmeval import PREFIX, LMEvalGrader, scorer_from_config, version_of
from harness.records import Item, Prompt, stable_hash
from harness.pipeline.lifecycle import run_lifecycle
from harness.pipeline.results import RunSummary, TaskSummary
from harness.store import ModelRow, Store

_RESULTS_RE = re.compile(r"^results_(?P<date>.+)\.json$")


@dataclass(frozen=True, slots=True)
class LMEvalOutput:
    """One `lm_eval` invocation's files: its results file and a samples file per task."""

    results_path: Path
    results: Mapping[str, Any]
    samples: Mapping[str, Path]  # lm-eval task name -> samples JSONL


def find_outputs(root: Path) -> list[LMEvalOutput]:
    """Every results file under `root` (lm-eval nests them in a folder per model), with its samples."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DataError(f"{root} does not exist: pass the folder given to lm_eval --output_path")
    paths = [root] if root.is_file() else sorted(root.rglob("results_*.json"))
    outs = []
    for path in paths:
        m = _RESULTS_RE.match(path.name)
        if not m:
            raise DataError(f"{path}: not an lm-eval results file (results_<date>.json)")
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: cannot read lm-eval results ({exc})") from None
        if not isinstance(results, dict) or "configs" not in results:
            raise DataError(f"{path}: no `configs` section; is this lm-eval output?")
        date = m.group("date")
        samples = {}
        for task in results["configs"]:
            cand = path.with_name(f"samples_{task}_{date}.jsonl")
            if cand.is_file():
                samples[task] = cand
        outs.append(LMEvalOutput(path, results, samples))
    if not outs:
        raise DataError(f"no lm-eval results_*.json under {root}: pass the folder given to lm_eval --output_path")
    return outs


def _context(arguments: Any, where: str) -> str:
    """The prompt of a logged generate_until request: {"gen_args_0": {"arg_0": ctx, ...}} in
    lm-eval 0.4.4+, [[ctx, gen_kwargs]] before."""
    try:
        if isinstance(arguments, dict):
            first = arguments[sorted(arguments)[0]]
            return str(first["arg_0"])
        return str(arguments[0][0])
    except (KeyError, IndexError, TypeError):
        raise DataError(f"{where}: `arguments` holds no prompt") from None


def _model_identity(out: LMEvalOutput, name: str | None, models_path: Path | None,
                    params_b: float | None, family: str | None) -> tuple[str, str, str, str | None, dict[str, Any]]:
    """(model_id, name, backend, path, spec) for the run. A name that is a models-file alias or an
    inline spec takes that model's fingerprint, so the run sits with the harness's own runs of it."""
    cfg = out.results.get("config") or {}
    margs = cfg.get("model_args")
    if isinstance(margs, str):  # "pretrained=PATH,dtype=float32" in older lm-eval
        margs = dict(kv.split("=", 1) for kv in margs.split(",") if "=" in kv)
    pretrained = margs.get("pretrained") or margs.get("model") if isinstance(margs, dict) else None
    lm_name = str(out.results.get("model_name") or pretrained or cfg.get("model") or "lm_eval-model")
    info = {"origin": "lm_eval", "lm_eval_model": cfg.get("model"), "model_args": margs}
    if name is not None:
        from harness.models import resolve

        try:
            spec = resolve(name, models_path)
        except UnknownModel:
            spec = None
        if spec is not None:
            return spec.fingerprint(), spec.name, spec.backend, spec.model, {**spec.describe(), **info}
    name = name or lm_name
    return ingested_model_id(name), name, "lm_eval", pretrained, {"name": name, **info}


def ingest_lm_eval(store: Store, root: Path, *, model: str | None = None, models_path: Path | None = None,
                   params_b: float | None = None, family: str | None = None,
                   filter_name: str | None = None) -> tuple[list[RunSummary], list[str]]:
    """Store each lm-eval results file under `root` as a run. Returns the runs and a note per task
    that was skipped (and why)."""
    runs: list[RunSummary] = []
    skipped: list[str] = []
    for out in find_outputs(root):
        todo = []
        for task, cfg in out.results["configs"].items():
            kind = cfg.get("output_type")
            if kind != "generate_until":
                skipped.append(f"{task}: output_type {kind} (log-probabilities, no sampled text to vote on)")
            elif task not in out.samples:
                raise DataError(f"{out.results_path}: no samples_{task}_*.jsonl beside it: run lm_eval with --log_samples")
            else:
                todo.append(task)
        if not todo:
            continue
        model_id, name, backend, path, spec = _model_identity(out, model, models_path, params_b, family)
        digest = hashlib.sha256(out.results_path.read_bytes()).hexdigest()[:16]
        lines = {task: _read_samples(out.samples[task]) for task in todo}
        k = max(len(d["resps"]) for docs in lines.values() for d in docs.values())
        sampling = {"source": "lm_eval", "results_file": str(out.results_path),
                    "gen_kwargs": {t: out.results["configs"][t].get("generation_kwargs") for t in todo},
                    "lm_eval_results": {t: out.results.get("results", {}).get(t) for t in todo},
                    "lm_eval_config": out.results.get("config")}
        record = ModelRow(model_id=model_id, name=name, backend=backend, path=path, params_b=params_b, family=family,
                          spec=json.dumps(spec))
        with run_lifecycle(store, record, k=k, sampling=sampling, tasks=[PREFIX + t for t in todo],
                           command=f"harness ingest lm-eval {root}", source="lm_eval") as run_id:
            summaries = [_ingest_task(store, run_id, model_id, task, out, lines[task], digest, filter_name)
                         for task in todo]
        runs.append(RunSummary(run_id, name, model_id, tuple(summaries)))
    if not runs:
        raise HarnessError(f"nothing to ingest under {root}: " + ("; ".join(skipped) or "no tasks"))
    return runs, skipped


def _read_samples(path: Path) -> dict[str, dict[str, Any]]:
    """doc_id -> its first logged line (every filter's line repeats the same doc and resps)."""
    docs: dict[str, dict[str, Any]] = {}
    for lineno, row in enumerate(read_jsonl(path), 1):
        where = f"{path}:{lineno}"
        if "doc_id" not in row or "resps" not in row:
            raise DataError(f"{where}: missing doc_id or resps; is this an lm-eval samples file?")
        doc_id = str(row["doc_id"])
        if doc_id in docs:
            continue
        resps = row["resps"]
        if not (isinstance(resps, list) and resps and isinstance(resps[0], list)
                and all(isinstance(r, str) for r in resps[0])):
            raise DataError(f"{where}: resps must be [[text, ...]] (a generate_until request's repeats)")
        docs[doc_id] = {"doc": row.get("doc") or {}, "target": row.get("target"),
                        "context": _context(row.get("arguments"), where), "resps": resps[0]}
    if not docs:
        raise DataError(f"{path}: no samples")
    return docs


def _ingest_task(store: Store, run_id: str, model_id: str, task: str, out: LMEvalOutput,
                 docs: Mapping[str, Mapping[str, Any]], digest: str, filter_name: str | None) -> TaskSummary:
    cfg = out.results["configs"][task]
    name = PREFIX + task
    version = version_of((out.results.get("versions") or {}).get(task, (cfg.get("metadata") or {}).get("version")))
    scorer = scorer_from_config(cfg, filter_name)
    skey = "lm_eval:" + stable_hash([digest, task])
    items, prompts, samples = [], [], []
    for doc_id in sorted(docs, key=lambda d: (len(d), d)):
        d = docs[doc_id]
        target = d["target"]
        items.append(Item(id=doc_id, gold=json.dumps(target) if isinstance(target, list) else str(target),
                          fields={"doc": d["doc"]}))
        prompts.append(Prompt(text=d["context"]))
        samples.append(list(enumerate(d["resps"])))
    grader = LMEvalGrader(scorer, {doc_id: (docs[doc_id]["doc"], docs[doc_id]["target"]) for doc_id in docs})
    return store_graded(store, run_id, model_id, name, version, skey, items, prompts, samples, grader)
