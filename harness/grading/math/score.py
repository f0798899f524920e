"""Math lines made elsewhere, for `harness score`: `gold` is a bare answer or a full solution; the
command's options are `MathOptions` fields."""

from __future__ import annotations

from typing import Any, Mapping

from harness.errors import DataError
from harness.grading.base import Scorer
from harness.records import Item


def math_grader(options: Mapping[str, Any]) -> Any:
    from harness.grading.math.grader import MathGrader, MathOptions

    known = {k: v for k, v in options.items() if k in MathOptions.__dataclass_fields__ and v is not None}
    return MathGrader(MathOptions(**known))


def gold_item(row: Mapping[str, Any], item_id: str) -> Item:
    if "gold" not in row:
        raise DataError(f"line for item {item_id}: no `gold`; lines with only `item_id` need a registered task "
                        f"(--task math500, ...), not a generic kind")
    return Item(id=item_id, gold=str(row["gold"]))


SCORER = Scorer(grader=math_grader, item_from_row=gold_item)
