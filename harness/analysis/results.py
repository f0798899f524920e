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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from harness.analysis.compare import ItemOutcome, Key, Outcomes
from harness.errors import HarnessError
from harness.models import ModelSpec, resolve
from harness.store import Store
from harness.store.columns import numpy_columns


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
    return from_columns(name, store.latest_results_columns([name], tasks, back, COLUMNS), models_path)


def from_rows(name: str, rows: Iterable[Mapping[str, Any]], models_path: Path | None = None) -> ModelResults:
    """A model's results from its rows of `queries.latest_results` (other models' rows are skipped)."""
    mine = [r for r in rows if r["model"] == name]
    names = list(dict.fromkeys(k for r in mine for k in r))
    return from_columns(name, {k: [r.get(k) for r in mine] for k in names}, models_path)


def from_columns(name: str, cols: Mapping[str, Any], models_path: Path | None = None) -> ModelResults:
    """A model's results from `queries.latest_results` as columns (equal-length sequences or arrays by
    column name; None and NaN both mean missing; other models' rows are skipped): the same answer
    as `from_rows` gives for the same rows, without a Python object per item."""
    col = {k: (v if isinstance(v, np.ndarray) else np.array(v, dtype=object)) for k, v in cols.items()}
    mine = np.flatnonzero(col["model"] == name) if "model" in col else np.zeros(0, dtype=np.int64)
    col = {k: v[mine] for k, v in col.items()}
    outcomes = Outcomes.from_columns(col) if mine.size else Outcomes([], [], [], [])
    runs: dict[str, TaskRun] = {}
    if mine.size:
        names = [str(t) for t in col["task"].tolist()]
        code = {t: i for i, t in enumerate(sorted(set(names)))}
        codes = np.fromiter((code[t] for t in names), dtype=np.int64, count=len(names))
        n = np.asarray(col["n"], dtype=float)
        for task, i in code.items():
            at = np.flatnonzero(codes == i)
            first = at[0]
            runs[task] = TaskRun(str(col["run_id"][first]), int(n[at].max()), int(col["task_version"][first]), len(at))
    run_ids: np.ndarray = col["run_id"] if mine.size else np.zeros(0, dtype=object)

    def newest(column: str) -> Any:
        """The column's value in the newest run (by run id) that has one, first row first."""
        values = col.get(column)
        if values is None or not len(values):
            return None
        present = ~np.isnan(values) if values.dtype.kind == "f" else \
            np.not_equal(values, None) & (values == values)  # neither None nor NaN
        for run in sorted(set(run_ids[present].tolist()), reverse=True):
            return values[np.flatnonzero(present & (run_ids == run))[0]]
        return None

    stored = newest("params_b")
    stored_params = None if stored is None else float(stored)
    stored_spec = newest("spec")
    p = params_b(name, stored_params, models_path)
    return ModelResults(name, outcomes, runs, None if p is None else p * 1e9,
                        price_per_mtok(name, stored_spec, models_path))


# The `latest_results` columns `from_columns` reads: the items' outcomes, the run and the model record.
COLUMNS: tuple[str, ...] = ("model", "run_id", "task_version", *Outcomes.COLUMNS, "params_b", "spec")


def columns_of(frame: Any, names: Sequence[str] = COLUMNS) -> dict[str, Any]:
    """The columns `from_columns` reads of a DataFrame of `queries.latest_results` (the leaderboard's
    cached read), as NumPy arrays through Arrow (missing: NaN for numbers, None for text)."""
    return numpy_columns(pa.Table.from_pandas(frame[[c for c in names if c in frame.columns]], preserve_index=False))


def from_frame(name: str, frame: Any, models_path: Path | None = None) -> ModelResults:
    """`from_columns` over a DataFrame of `queries.latest_results`."""
    return from_columns(name, columns_of(frame), models_path)


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

