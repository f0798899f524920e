"""A model's latest results, its size and its price: the one owner of "how is model X doing".

`harness compare`, the demo, nightly's checks and the leaderboard all read a model through here:
- its results: per item, from its latest finished run of each task (`back=1`: the run before), as one
  query ranks them (`harness.store.queries.latest_results`; "latest" is decided in that SQL only),
  with each item's token totals;
- its size (parameter count): as recorded with the weights that produced the results (the stored
  model record of its newest run among them), else the models file;
- its price per million tokens: the models file first, else the spec recorded with its newest run.

`from_rows` builds a model's results from the query's rows (dicts, or DataFrame records: NaN and
None both mean missing), so the leaderboard, which reads the same query through its cache, gets the
same answer as the commands that read it through `load_results`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from harness.analysis.compare import ItemOutcome, Key
from harness.errors import HarnessError
from harness.models import ModelSpec, resolve
from harness.store import Store


@dataclass(frozen=True, slots=True)
class TaskRun:
    """Where a model's results on one task come from."""

    run_id: str
    k: int
    task_version: int
    n_items: int


@dataclass(frozen=True, slots=True)
class ModelResults:
    name: str
    outcomes: Mapping[Key, ItemOutcome]
    runs: Mapping[str, TaskRun]  # task -> run
    params: float | None  # parameter count (not billions)
    price: Mapping[str, float] | None = None  # per million input / output tokens

    def task_outcomes(self, task: str) -> dict[str, ItemOutcome]:
        """The outcomes of one task, by item id."""
        return {item: o for (t, item), o in self.outcomes.items() if t == task}


def load_results(store: Store, name: str, models_path: Path | None = None, tasks: Sequence[str] | None = None,
                 *, back: int = 0) -> ModelResults:
    """Model `name`'s results on each task it has (or on `tasks`) from its latest finished run of the
    task (`back=1`: the one before), with its size and price (see the module doc)."""
    return from_rows(name, store.latest_results([name], tasks, back), models_path)


def from_rows(name: str, rows: Iterable[Mapping[str, Any]], models_path: Path | None = None) -> ModelResults:
    """A model's results from its rows of `queries.latest_results` (other models' rows are skipped)."""
    mine = [r for r in rows if r["model"] == name]
    outcomes: dict[Key, ItemOutcome] = {}
    by_task: dict[str, list[Mapping[str, Any]]] = {}
    for r in mine:
        outcomes[(str(r["task"]), str(r["item_id"]))] = replace(
            ItemOutcome.from_row(r), prompt_tokens=_count(r.get("prompt_tokens")),
            completion_tokens=_count(r.get("completion_tokens")), thinking_tokens=_count(r.get("thinking_tokens")),
            n_forced=_count(r.get("n_forced")))
        by_task.setdefault(str(r["task"]), []).append(r)
    runs = {task: TaskRun(str(rs[0]["run_id"]), max(int(r["n"]) for r in rs), int(rs[0]["task_version"]), len(rs))
            for task, rs in sorted(by_task.items())}
    newest_first = sorted(mine, key=lambda r: str(r["run_id"]), reverse=True)
    stored_params = next((float(r["params_b"]) for r in newest_first if _given(r.get("params_b"))), None)
    stored_spec = next((r["spec"] for r in newest_first if _given(r.get("spec"))), None)
    p = params_b(name, stored_params, models_path)
    return ModelResults(name, outcomes, runs, None if p is None else p * 1e9,
                        price_per_mtok(name, stored_spec, models_path))


def params_b(name: str, stored: float | None, models_path: Path | None = None) -> float | None:
    """A model's parameter count in billions: as stored with its results, else from the models file
    (a count that is not positive is no count)."""
    spec = _spec(name, models_path) if stored is None or not stored > 0 else None
    found = stored if spec is None else spec.params_b
    return float(found) if found is not None and found > 0 else None


def price_per_mtok(name: str, stored_spec: object, models_path: Path | None = None) -> dict[str, float] | None:
    """A model's price per million tokens: from the models file, else from the spec recorded with its
    run (a dict, or its JSON text); None without one."""
    spec = _spec(name, models_path)
    price = _price(spec.price_per_mtok if spec is not None else None) or _price(_recorded(stored_spec).get("price_per_mtok"))
    return price or None


def _spec(name: str, models_path: Path | None) -> ModelSpec | None:
    try:
        return resolve(name, models_path)
    except HarnessError:
        return None  # an ingested model need not be in the models file


def _recorded(spec: object) -> dict[str, Any]:
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError:
            return {}
    return spec if isinstance(spec, dict) else {}


def _price(price: object) -> dict[str, float]:
    if not isinstance(price, Mapping):
        return {}
    return {str(k): float(v) for k, v in price.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _given(x: object) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _count(x: object) -> int | None:
    return int(x) if _given(x) else None  # type: ignore[call-overload]
