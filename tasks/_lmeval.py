"""lm-eval tasks run through the harness: `harness run --task lm_eval:NAME`.

The task is loaded with lm-eval's own `TaskManager`, so its documents, prompt construction and
few-shot examples are lm-eval's (few-shot seed 1234, lm-eval's default, so contexts match an
`lm_eval` run's); the harness then generates k samples with any backend (cache, resume, k -> 2k),
scores each sample with the task's own filter and metric, and votes as it does for its own tasks.

- Item ids are lm-eval's `doc_id`s, so `harness ingest lm-eval` runs of the same task line up.
- Prompts are lm-eval's plain-text contexts (sent to completion endpoints as is; lm-eval's
  `--apply_chat_template` is not reproduced).
- Sampling: the task's `until` becomes stop strings and `max_gen_toks` (else lm-eval's 256) the token
  budget; its temperature and top_p apply only when the task itself samples (`do_sample: true`):
  greedy tasks leave the temperature to the models file or `--temperature`, since k greedy samples
  would all agree.
- Verdicts: a sample goes through the task's first filter pipeline (or `lm_eval:NAME@FILTER`), then
  the task's first metric; the metric must score a single sample 0 or 1 (exact_match, acc, pass...):
  1 is correct, 0 incorrect, or unparseable when the filter found nothing (lm-eval's "[invalid]").
  Samples vote together when the task's metric says one's answer matches the other's.
- Refused: every task whose `output_type` is not `generate_until` (multiple_choice, loglikelihood,
  loglikelihood_rolling score log-probabilities, not sampled text), and groups (name a task).

Extra task folders (your own YAML): `$HARNESS_LMEVAL_INCLUDE`, folders separated by `os.pathsep`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from harness.data import Source
from harness.errors import HarnessError, UnknownTask
from harness.grading.base import classes_by_key
from harness.records import Grade, Item, Prompt
from harness.task import Task

PREFIX = "lm_eval:"
INCLUDE_ENV = "HARNESS_LMEVAL_INCLUDE"
FEWSHOT_SEED = 1234  # lm-eval's default --fewshot_seed
DEFAULT_MAX_GEN_TOKS = 256  # lm-eval's default when a task sets no max_gen_toks
INVALID = ("[invalid]", "")


def _lm_eval() -> Any:
    try:
        import lm_eval  # noqa: F401
    except ImportError as exc:
        raise HarnessError(f"lm-eval tasks need lm-eval installed (pip install 'harness[lmeval]'): {exc}") from None
    import lm_eval

    return lm_eval


# -- scoring one sample the task's way ----------------------------------------------------------

@dataclass(frozen=True)
class Scorer:
    """One filter pipeline and one 0/1 metric of an lm-eval task, applied to single samples.

    `score(doc, target, filtered)` is the metric's value for one filtered answer; `agree(a, b)` says
    whether two filtered answers are the same answer to the metric (used to group votes)."""

    task: str
    filter_name: str
    metric: str
    _filter: Any
    _score: Callable[[Mapping[str, Any], Any, Any], Any]
    _agree: Callable[[Any, Any], bool]

    def filtered(self, response: str, doc: Mapping[str, Any]) -> Any:
        resps: Any = [[response]]
        for make in self._filter.filters:
            resps = make().apply(resps, [doc])
        out = list(resps)[0]
        if isinstance(out, (list, tuple)):
            out = out[0] if out else ""
        return out

    def grade(self, doc: Mapping[str, Any], target: Any, responses: Sequence[str]) -> list[Grade]:
        answers = [self.filtered(r, doc) for r in responses]
        grades = []
        for ans in answers:
            if isinstance(ans, str) and ans.strip() in INVALID:
                grades.append(Grade(ans, None, "unparseable", None))
                continue
            value = _as_01(self._score(doc, target, ans), self.task, self.metric)
            grades.append(Grade(str(ans), str(ans).strip(), "correct" if value else "incorrect", None))
        reps: list[Any] = []
        keys: list[int | None] = []
        for g, ans in zip(grades, answers):
            if g.canonical is None:
                keys.append(None)
                continue
            for i, rep in enumerate(reps):
                if self._agree(rep, ans):
                    keys.append(i)
                    break
            else:
                reps.append(ans)
                keys.append(len(reps) - 1)
        classes = classes_by_key(keys)
        return [Grade(g.extracted, reps[k].strip() if k is not None and isinstance(reps[k], str) else g.canonical,
                      g.verdict, c, g.detail) for g, k, c in zip(grades, keys, classes)]


def _as_01(value: Any, task: str, metric: str) -> bool:
    if isinstance(value, (bool, int, float)) and float(value) in (0.0, 1.0):
        return bool(value)
    raise HarnessError(
        f"lm-eval task {task}: metric {metric} gave {value!r} for one sample; the harness needs a right/wrong "
        "verdict per sample (a 0/1 metric such as exact_match or acc)"
    )


def call_metric(fn: Callable[..., Any], kwargs: Mapping[str, Any], metric: str, ref: Any, pred: Any) -> Any:
    """A metric on one (reference, prediction), called the way lm-eval's process_results calls it."""
    try:
        value = fn(references=[ref], predictions=[pred], **kwargs)
    except TypeError:
        value = fn([ref, pred])
    return value[metric] if isinstance(value, dict) else value


def _agree_by(fn: Callable[..., Any] | None, kwargs: Mapping[str, Any], metric: str) -> Callable[[Any, Any], bool]:
    def agree(a: Any, b: Any) -> bool:
        if str(a).strip() == str(b).strip():
            return True
        if fn is None:
            return False
        try:
            return float(call_metric(fn, kwargs, metric, a, b)) == 1.0
        except Exception:  # a metric that cannot compare two answers: fall back to equal text
            return False

    return agree


def _pick_filter(filters: Sequence[Any], wanted: str | None, task: str) -> Any:
    if wanted is None:
        return filters[0]
    for f in filters:
        if f.name == wanted:
            return f
    raise UnknownTask(f"lm-eval task {task} has no filter {wanted!r}; it has {', '.join(f.name for f in filters)}")


def scorer_from_task(task: Any, filter_name: str | None = None) -> Scorer:
    """From a loaded lm-eval task: its own `process_results` decides each sample."""
    name = task.config.task
    filt = _pick_filter(task._filters, filter_name, name)
    metrics = list(task._metric_fn_list)
    if not metrics:
        raise HarnessError(f"lm-eval task {name} defines no metric")
    metric = metrics[0]

    def score(doc: Mapping[str, Any], target: Any, ans: Any) -> Any:
        return task.process_results(doc, [ans])[metric]

    fn = task._metric_fn_list.get(metric)
    return Scorer(name, filt.name, metric, filt, score,
                  _agree_by(fn, task._metric_fn_kwargs.get(metric, {}), metric))


def scorer_from_config(cfg: Mapping[str, Any], filter_name: str | None = None) -> Scorer:
    """From the task config lm-eval writes into its results file (no dataset needed): the filters and
    the first metric rebuilt with lm-eval's registries, applied to the logged target."""
    _lm_eval()
    from lm_eval.api.registry import get_metric
    from lm_eval.filters import build_filter_ensemble

    name = str(cfg.get("task"))
    if cfg.get("process_results"):
        raise HarnessError(f"lm-eval task {name} scores with its own process_results code, which its results "
                           "file does not carry in runnable form; run it through `--task lm_eval:NAME` instead")
    filters = []
    for fc in cfg.get("filter_list") or [{"name": "none", "filter": [{"function": "take_first"}]}]:
        comps = [(f["function"], {k: v for k, v in f.items() if k != "function"} or None) for f in fc["filter"]]
        filters.append(build_filter_ensemble(fc["name"], comps))
    filt = _pick_filter(filters, filter_name, name)
    mcfg = (cfg.get("metric_list") or [{"metric": "exact_match"}])[0]
    metric = mcfg["metric"]
    fn = get_metric(metric, bool(mcfg.get("hf_evaluate")))
    if fn is None:
        raise HarnessError(f"lm-eval task {name}: metric {metric!r} is not in lm-eval's registry")
    kwargs = {k: v for k, v in mcfg.items() if k not in ("metric", "aggregation", "higher_is_better", "hf_evaluate")}

    def score(doc: Mapping[str, Any], target: Any, ans: Any) -> Any:
        targets = target if isinstance(target, list) else [target]
        values = [call_metric(fn, kwargs, metric, str(t), ans) for t in targets]
        numeric = all(isinstance(v, (bool, int, float)) for v in values)
        return max(values) if numeric else values[0]  # any target matching counts, as in lm-eval

    return Scorer(name, filt.name, metric, filt, score, _agree_by(fn, kwargs, metric))


class LMEvalGrader:
    """The harness's Grader protocol over a Scorer; documents are looked up by item id. Runs on the
    main thread (`main_thread`): some tasks' metrics time themselves with `signal.alarm`."""

    main_thread = True

    def __init__(self, scorer: Scorer, docs: Mapping[str, tuple[Mapping[str, Any], Any]]):
        self.scorer = scorer
        self.docs = docs  # item id -> (doc, target)

    def grade(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[Grade]]:
        out = []
        for item, responses in batch:
            doc, target = self.docs.get(item.id) or (item.fields.get("doc", {}), item.gold)
            out.append(self.scorer.grade(doc, target, responses))
        return out

    def close(self) -> None:
        pass


# -- the task ----------------------------------------------------------------------------------

def task_manager(name: str | None = None) -> Any:
    """lm-eval's TaskManager. Indexing all of lm-eval's ~14,000 YAML files takes 10-20 s, so for a
    task `name` the folders likely to hold it are indexed first ($HARNESS_LMEVAL_INCLUDE, then
    lm-eval's own folder named like the task's leading words); everything only when that fails."""
    lm_eval = _lm_eval()
    from lm_eval.tasks import TaskManager

    include = [p for p in os.environ.get(INCLUDE_ENV, "").split(os.pathsep) if p]
    if name:
        builtin = Path(lm_eval.__file__).parent / "tasks"
        words = name.split("_")
        guesses = [builtin / "_".join(words[:n]) for n in range(len(words), 0, -1)]
        for paths in ([include] if include else []) + [[g] for g in guesses if g.is_dir()]:
            tm = TaskManager(include_path=paths, include_defaults=False)
            if name in tm.all_tasks:
                return tm
    return TaskManager(include_path=include or None)


def load_lmeval_task(name: str) -> Any:
    """The lm-eval task object, after the checks that give clear refusals."""
    tm = task_manager(name)
    from lm_eval.api.task import Task as LMTask
    from lm_eval.tasks import get_task_dict

    if name in tm.all_groups and name not in tm.all_subtasks:
        raise UnknownTask(f"lm-eval name {name!r} is a group; run one of its tasks as lm_eval:TASK")
    if name not in tm.all_tasks:
        close = [t for t in tm.all_subtasks if name in t][:8]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise UnknownTask(f"lm-eval knows no task {name!r} (add folders with ${INCLUDE_ENV}){hint}")
    entry = tm.task_index.get(name)
    declared = (getattr(entry, "cfg", None) or {}).get("output_type")
    if declared is not None and declared != "generate_until":
        raise UnknownTask(_refusal(name, declared))  # before lm-eval loads (or downloads) the data
    try:
        found = get_task_dict([name], tm)
    except Exception as exc:
        raise HarnessError(f"lm-eval could not load task {name!r}: {type(exc).__name__}: {exc}") from None
    tasks = [t for t in found.values() if isinstance(t, LMTask)]
    if len(tasks) != 1:
        raise UnknownTask(f"lm-eval name {name!r} is a group or tag; run one of its tasks as lm_eval:TASK")
    task = tasks[0]
    if task.OUTPUT_TYPE != "generate_until":
        raise UnknownTask(_refusal(name, task.OUTPUT_TYPE))
    return task


def _refusal(name: str, output_type: str) -> str:
    return (f"lm-eval task {name} has output_type {output_type}: only generate_until tasks run through the "
            "harness (multiple_choice and loglikelihood tasks score log-probabilities, not sampled text); "
            "run it with lm_eval, or use the harness's own multiple-choice tasks")


def task_sampling(gen_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Harness sampling fields from lm-eval generation_kwargs (see the module docstring)."""
    out: dict[str, Any] = {"max_tokens": int(gen_kwargs.get("max_gen_toks") or DEFAULT_MAX_GEN_TOKS)}
    until = gen_kwargs.get("until")
    if until:
        out["stop"] = (until,) if isinstance(until, str) else tuple(until)
    if gen_kwargs.get("do_sample"):
        if gen_kwargs.get("temperature") is not None:
            out["temperature"] = float(gen_kwargs["temperature"])
        if gen_kwargs.get("top_p") is not None:
            out["top_p"] = float(gen_kwargs["top_p"])
    return out


def version_of(raw: Any) -> int:
    try:
        return int(float(raw))
    except (TypeError, ValueError):
        return 0


def build_task(full_name: str) -> Task:
    """`lm_eval:NAME` or `lm_eval:NAME@FILTER` as a harness Task (loads the task's data now)."""
    spec = full_name[len(PREFIX):]
    name, _, filter_name = spec.partition("@")
    if not name:
        raise UnknownTask("write lm_eval:NAME (an lm-eval generate_until task), e.g. lm_eval:gsm8k")
    lm_task = load_lmeval_task(name)
    scorer = scorer_from_task(lm_task, filter_name or None)
    lm_task.set_fewshot_seed(seed=FEWSHOT_SEED)
    docs: dict[str, tuple[Mapping[str, Any], Any]] = {}
    contexts: dict[str, str] = {}

    def load(source: Source) -> list[Item]:
        try:
            lm_task.build_all_requests(limit=source.limit)
        except Exception as exc:
            raise HarnessError(f"lm-eval could not build prompts for {name}: {type(exc).__name__}: {exc}") from None
        items = []
        for inst in lm_task.instances:
            item_id = str(inst.doc_id)
            if item_id in docs:
                continue
            target = lm_task.doc_to_target(inst.doc)
            docs[item_id] = (inst.doc, target)
            contexts[item_id] = inst.arguments[0]
            items.append(Item(id=item_id, gold=str(target), fields={"doc": dict(inst.doc)}))
        return items

    def render(item: Item) -> Prompt:
        return Prompt(text=contexts[item.id])

    cfg = lm_task.config
    return Task(
        name=full_name, version=version_of((cfg.metadata or {}).get("version")), kind="other", load=load,
        render=render, grader=lambda: LMEvalGrader(scorer, docs),
        description=f"lm-eval task {name} ({cfg.num_fewshot or 0}-shot, filter {scorer.filter_name}, "
                    f"metric {scorer.metric})",
        sampling=task_sampling(cfg.generation_kwargs or {}),
    )
