"""A fine-tuned model's lineage: what its weights were trained from and on, kept beside the weights.

`harness sft` (and `harness dpo`) write `lineage.json` into the model folder they make: the base it
started from, the training file's digest, the recipe, the seed, and every (task, item id) the
training data held, the base's own trained items included (a model tuned twice saw both rounds).
The runner records it in the store under the weights' fingerprint, and a score is flagged as possibly
contaminated exactly on the items those weights saw: never on a model whose weights did not see
them, whatever it is called.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.errors import HarnessError

LINEAGE_FILE = "lineage.json"


@dataclass(frozen=True, slots=True)
class Lineage:
    base: str  # the folder (or hub id) training started from
    method: str  # sft | dpo
    data_sha256: str | None
    recipe: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    items: tuple[tuple[str, str], ...] = ()  # (task, item id) the weights saw, ancestors' included
    base_model_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base, "base_model_id": self.base_model_id, "method": self.method,
                "data_sha256": self.data_sha256, "recipe": dict(self.recipe), "seed": self.seed,
                "items": [list(x) for x in self.items]}

    @staticmethod
    def from_json(d: Mapping[str, Any], where: str) -> "Lineage":
        try:
            items = tuple((str(t), str(i)) for t, i in d.get("items") or ())
            return Lineage(base=str(d["base"]), method=str(d.get("method") or "sft"),
                           data_sha256=d.get("data_sha256"), recipe=dict(d.get("recipe") or {}),
                           seed=d.get("seed"), items=items, base_model_id=d.get("base_model_id"))
        except (KeyError, TypeError, ValueError) as exc:
            raise HarnessError(f"{where}: not a lineage record ({type(exc).__name__}: {exc})") from None


def read_lineage(folder: str | Path | None) -> Lineage | None:
    """The lineage written beside a model's weights, or None (a base model, a hub id, a server)."""
    if folder is None:
        return None
    path = Path(folder).expanduser() / LINEAGE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path}: unreadable lineage ({exc})") from None
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: a lineage is a JSON object")
    return Lineage.from_json(data, str(path))


def trained_items(rows: Iterable[Any]) -> set[tuple[str, str]]:
    """The (task, item id) pairs a training file's lines name: each line's own item and, for a
    synthesized variant, the item it was made from (`parent`). Lines without a task (rehearsal of
    general data) name none."""
    out: set[tuple[str, str]] = set()
    for r in rows:
        get = r.get if isinstance(r, Mapping) else (lambda key, r=r: getattr(r, key, None))  # a dict or an SftExample
        task = get("task")
        if not isinstance(task, str) or not task:
            continue
        for key in ("item_id", "parent"):
            v = get(key)
            if v is not None and v != "":
                out.add((task, str(v)))
    return out


def write_lineage(folder: Path, lineage: Lineage) -> Path:
    path = Path(folder) / LINEAGE_FILE
    path.write_text(json.dumps(lineage.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
