"""`harness loop`'s configuration: a TOML file, every key documented in `harness/loop.example.toml`.

    name, student, teacher, models, out, db, k, seeds, arms, size, band, min_teacher_rate
    [recipe]    steps, learning_rate, batch_size, lora_r, warmup, mix, anchors, bf16
    [[phases]]  task, task_args, data_dir, test_size, selection_size, split_seed, selection_task, test_task, augment
    [dpo]       arms, rollouts, p_gap, band, samples, max_rollouts, steps, learning_rate, batch_size, beta, lora_r

A phase without `[[phases]]` is read from the top level (`task = ...` and the rest), so a one-phase
loop is a flat file. Unknown keys are errors (a typo must not silently change an experiment).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from harness.data import parse_toml
from harness.errors import HarnessError

ARMS = ("teachable", "random", "all-failed", "easy")
TOP_KEYS = {"name", "student", "teacher", "models", "out", "db", "k", "seeds", "arms", "size", "band",
            "min_teacher_rate", "recipe", "phases", "dpo"}
PHASE_KEYS = {"task", "task_args", "data_dir", "test_size", "selection_size", "split_seed", "selection_task", "test_task",
              "augment"}
RECIPE_KEYS = {"steps", "learning_rate", "batch_size", "lora_r", "warmup", "mix", "anchors", "bf16"}
DPO_ARMS = ("pivotal", "random-position")
DPO_KEYS = {"arms", "rollouts", "p_gap", "band", "samples", "max_rollouts", "steps", "learning_rate", "batch_size",
            "beta", "lora_r"}


@dataclass(frozen=True)
class Recipe:
    """How each arm is fine-tuned (`harness sft`'s options): the same for every arm."""

    steps: int = 400
    learning_rate: float = 1e-3
    batch_size: int = 16
    lora_r: int | None = None
    warmup: float = 0.1
    mix: Path | None = None  # general examples shuffled into every arm's data (rehearsal)
    bf16: bool = False
    # every arm's data also holds the start model's own shortest correct sample of each selection-pool
    # item it solves by majority (self-distillation against forgetting), but the items the arm picked
    anchors: bool = False


@dataclass(frozen=True)
class DpoArms:
    """Arms that start from each seed's `teachable` model and add DPO (`harness.loop.dpo`): on pairs at
    the pivotal tokens of the student's samples of its teachable items on the selection pool
    (`pivotal`), or on as many pairs cut at random positions of the same samples (`random-position`)."""

    arms: tuple[str, ...] = DPO_ARMS
    rollouts: int = 16  # N: continuations per prefix (harness pivotal --rollouts)
    p_gap: float = 0.2
    band: tuple[float, float] = (0.2, 0.8)  # p(prompt) of the items searched
    samples: int = 2  # samples searched per item
    max_rollouts: int | None = None  # budget of the search
    steps: int = 30  # DPO optimizer steps (the same for both arms and every seed)
    learning_rate: float = 1e-4
    batch_size: int = 8
    beta: float = 0.1
    lora_r: int | None = None


@dataclass(frozen=True)
class Phase:
    """One round of the loop on one domain. Pools: a seeded split of `task`'s items (`test_size` of
    them form the test pool), or two tasks (`selection_task`, `test_task`) whose items are disjoint."""

    task: str | None = None
    task_args: Mapping[str, Any] = field(default_factory=dict)
    data_dir: Path | None = None
    test_size: int | None = None
    split_seed: int = 0
    selection_task: str | None = None
    test_task: str | None = None
    augment: int = 0  # synth-verified numeric variants of each selected item added to its training data
    selection_size: int | None = None  # with `task`: items of the selection pool (None: every item not in the test pool)

    @property
    def label(self) -> str:
        return self.task or f"{self.selection_task}->{self.test_task}"


@dataclass(frozen=True)
class LoopConfig:
    name: str
    student: str  # an alias of the models file, or an inline spec (hf:PATH, vllm:PATH)
    phases: tuple[Phase, ...]
    teacher: str | None = None
    models: Path | None = None
    out: Path = Path("harness-loop")
    db: Path | None = None
    k: int = 4
    seeds: tuple[int, ...] = (0, 1, 2)
    arms: tuple[str, ...] = ("teachable", "random")
    size: int | None = None  # items per arm; None: as many as the teachable arm selects
    band: tuple[float, float] = (0.0, 1.0)
    min_teacher_rate: float = 0.75
    recipe: Recipe = Recipe()
    dpo: DpoArms | None = None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        if d.get("dpo") is None:  # unset: left out, so a config without it keeps its loop id
            d.pop("dpo", None)
        if not d["recipe"].get("anchors"):  # unset: left out, so a config without it keeps its loop id
            d["recipe"].pop("anchors", None)
        for ph in d["phases"]:  # unset: left out, so a config without it keeps its loop id
            if ph.get("selection_size") is None:
                ph.pop("selection_size", None)
        return _jsonable(d)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, Path):
        return str(x)
    return x


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise HarnessError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")


def _typed(table: Mapping[str, Any], key: str, kinds: tuple[type, ...], where: str) -> Any:
    v = table[key]
    if isinstance(v, bool) and bool not in kinds or not isinstance(v, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise HarnessError(f"{where}: {key} must be {names}, got {v!r}")
    return v


def _path(v: Any, base: Path) -> Path:
    p = Path(str(v)).expanduser()
    return p if p.is_absolute() else (base / p)


def parse(table: Mapping[str, Any], *, base: Path = Path("."), where: str = "loop config") -> LoopConfig:
    """A LoopConfig from a TOML table; relative paths are relative to `base` (the file's folder)."""
    _check_keys(table, TOP_KEYS | PHASE_KEYS, where)
    for key in ("name", "student"):
        if key not in table:
            raise HarnessError(f"{where}: `{key}` is required")
    name = str(_typed(table, "name", (str,), where))
    if not name or any(c in name for c in "/\\ \t\n"):
        raise HarnessError(f"{where}: name {name!r} names folders and models: no spaces or slashes")
    phases_raw = table.get("phases")
    if phases_raw is None:
        phases_raw = [{k: v for k, v in table.items() if k in PHASE_KEYS}]
    elif any(k in table for k in PHASE_KEYS):
        raise HarnessError(f"{where}: put {', '.join(sorted(k for k in PHASE_KEYS if k in table))} inside [[phases]] "
                           "when the file has [[phases]]")
    if not isinstance(phases_raw, list) or not phases_raw:
        raise HarnessError(f"{where}: [[phases]] must list at least one phase")
    phases = tuple(_phase(p, base, f"{where}: phase {i + 1}") for i, p in enumerate(phases_raw))
    arms = tuple(table.get("arms", ("teachable", "random")))
    bad = [a for a in arms if a not in ARMS]
    if bad or not arms or len(set(arms)) != len(arms):
        raise HarnessError(f"{where}: arms are distinct names among {', '.join(ARMS)}, got {list(arms)}")
    seeds = tuple(table.get("seeds", (0, 1, 2)))
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds) or len(set(seeds)) != len(seeds):
        raise HarnessError(f"{where}: seeds are distinct integers, got {list(seeds)}")
    k = int(_typed(table, "k", (int,), where)) if "k" in table else 4
    if k < 1:
        raise HarnessError(f"{where}: k must be at least 1")
    band = tuple(float(x) for x in table.get("band", (0.0, 1.0)))
    if len(band) != 2 or not 0.0 <= band[0] < band[1] <= 1.0:
        raise HarnessError(f"{where}: band is [low, high] with 0 <= low < high <= 1, got {table.get('band')}")
    size = table.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
        raise HarnessError(f"{where}: size must be a positive integer (items per arm), got {size!r}")
    recipe = _recipe(table.get("recipe", {}), base, f"{where}: [recipe]")
    dpo = None if table.get("dpo") is None else _dpo(table["dpo"], f"{where}: [dpo]")
    if dpo is not None and "teachable" not in arms:
        raise HarnessError(f"{where}: the [dpo] arms start from the teachable arm's models: add \"teachable\" to arms")
    return LoopConfig(
        name=name, student=str(table["student"]), phases=phases,
        teacher=None if table.get("teacher") is None else str(table["teacher"]),
        models=None if table.get("models") is None else _path(table["models"], base),
        out=_path(table.get("out", "harness-loop"), base),
        db=None if table.get("db") is None else _path(table["db"], base),
        k=k, seeds=seeds, arms=arms, size=size, band=(band[0], band[1]),
        min_teacher_rate=float(table.get("min_teacher_rate", 0.75)), recipe=recipe, dpo=dpo)


def _phase(p: Any, base: Path, where: str) -> Phase:
    if not isinstance(p, dict):
        raise HarnessError(f"{where}: a phase is a table")
    _check_keys(p, PHASE_KEYS, where)
    split = p.get("task") is not None
    pair = p.get("selection_task") is not None or p.get("test_task") is not None
    if split == pair:
        raise HarnessError(f"{where}: give either `task` (split into a selection and a test pool) or both "
                           "`selection_task` and `test_task`")
    if pair and (p.get("selection_task") is None or p.get("test_task") is None):
        raise HarnessError(f"{where}: `selection_task` and `test_task` go together")
    if split and not isinstance(p.get("test_size"), int):
        raise HarnessError(f"{where}: `test_size` (items in the test pool) is required with `task`")
    if split and p["test_size"] < 1:
        raise HarnessError(f"{where}: test_size must be positive")
    sel_size = p.get("selection_size")
    if sel_size is not None and (not split or not isinstance(sel_size, int) or isinstance(sel_size, bool) or sel_size < 1):
        raise HarnessError(f"{where}: selection_size is a positive number of items, with `task`; got {sel_size!r}")
    args = p.get("task_args", {})
    if not isinstance(args, dict):
        raise HarnessError(f"{where}: task_args is a table of the task's options")
    augment = p.get("augment", 0)
    if not isinstance(augment, int) or isinstance(augment, bool) or augment < 0:
        raise HarnessError(f"{where}: augment is a number of variants per item (0: none), got {augment!r}")
    return Phase(task=p.get("task"), task_args=dict(args),
                 data_dir=None if p.get("data_dir") is None else _path(p["data_dir"], base),
                 test_size=p.get("test_size"), split_seed=int(p.get("split_seed", 0)),
                 selection_task=p.get("selection_task"), test_task=p.get("test_task"), augment=augment,
                 selection_size=sel_size)


def _recipe(r: Any, base: Path, where: str) -> Recipe:
    if not isinstance(r, dict):
        raise HarnessError(f"{where}: a table")
    _check_keys(r, RECIPE_KEYS, where)
    d = Recipe()
    steps = r.get("steps", d.steps)
    if not isinstance(steps, int) or steps < 1:
        raise HarnessError(f"{where}: steps must be a positive integer")
    lora = r.get("lora_r")
    anchors = r.get("anchors", d.anchors)
    if not isinstance(anchors, bool):
        raise HarnessError(f"{where}: anchors is true or false, got {anchors!r}")
    return Recipe(anchors=anchors, steps=steps, learning_rate=float(r.get("learning_rate", d.learning_rate)),
                  batch_size=int(r.get("batch_size", d.batch_size)), lora_r=int(lora) if lora else None,
                  warmup=float(r.get("warmup", d.warmup)),
                  mix=None if r.get("mix") is None else _path(r["mix"], base), bf16=bool(r.get("bf16", False)))


def _dpo(r: Any, where: str) -> DpoArms:
    if not isinstance(r, dict):
        raise HarnessError(f"{where}: a table")
    _check_keys(r, DPO_KEYS, where)
    d = DpoArms()
    arms = tuple(r.get("arms", d.arms))
    if not arms or len(set(arms)) != len(arms) or any(a not in DPO_ARMS for a in arms):
        raise HarnessError(f"{where}: arms are distinct names among {', '.join(DPO_ARMS)}, got {list(arms)}")
    ints: dict[str, Any] = {}
    for key in ("rollouts", "samples", "steps", "batch_size", "max_rollouts", "lora_r"):
        v = r.get(key, getattr(d, key))
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise HarnessError(f"{where}: {key} must be a positive integer, got {v!r}")
        ints[key] = v
    band = tuple(float(x) for x in r.get("band", d.band))
    if len(band) != 2 or not 0.0 <= band[0] <= band[1] <= 1.0:
        raise HarnessError(f"{where}: band is [low, high] with 0 <= low <= high <= 1, got {r.get('band')}")
    p_gap = float(r.get("p_gap", d.p_gap))
    if not 0 < p_gap <= 1:
        raise HarnessError(f"{where}: p_gap must be in (0, 1], got {p_gap}")
    return DpoArms(arms=arms, p_gap=p_gap, band=(band[0], band[1]), learning_rate=float(r.get("learning_rate", d.learning_rate)),
                   beta=float(r.get("beta", d.beta)), **ints)


def load_config(path: Path) -> LoopConfig:
    if not path.is_file():
        raise HarnessError(f"no loop config at {path}: start from harness/loop.example.toml (`harness loop --example`)")
    table = parse_toml(path.read_text(encoding="utf-8"), str(path))
    return parse(table, base=path.resolve().parent, where=str(path))
