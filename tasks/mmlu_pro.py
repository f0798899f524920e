"""MMLU-Pro (TIGER-Lab/MMLU-Pro): 12,032 test questions in 14 categories, up to 10 choices (A-J).

Hub: TIGER-Lab/MMLU-Pro, split `test`; local: `mmlu_pro_test.jsonl` with the hub's columns
(`question_id`, `question`, `options`, `answer_index`, `category`) in the data folder. Item id =
`question_id`. Some questions have fewer than 10 options (the dataset dropped padding); letters past an
item's last option are unparseable. `mmlu_pro_stem` keeps the STEM categories.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

from harness.data import Source, load_rows
from harness.errors import DataError
from harness.tasks._multichoice import ChoiceRow, choice_tasks, make_items
from harness.records import Item

HUB = "TIGER-Lab/MMLU-Pro"
REVISION: str | None = None  # not pinned yet: the hub could not be reached when this was written
FILENAME = "mmlu_pro_test.jsonl"
STEM = frozenset({"math", "physics", "chemistry", "biology", "computer science", "engineering"})
REQUIRED = ("question_id", "question", "options", "answer_index", "category")


def to_row(i: int, row: dict[str, Any]) -> ChoiceRow:
    try:
        answer = int(row["answer_index"])
    except (TypeError, ValueError):
        raise DataError(f"mmlu_pro row {i}: answer_index {row['answer_index']!r} is not an integer") from None
    # Drop padding options ("N/A", empty) but keep the answer pointing at the same option.
    kept = [j for j, o in enumerate(row["options"]) if o is not None and str(o).strip() not in ("", "N/A")]
    if answer not in kept:
        raise DataError(f"mmlu_pro row {i}: answer_index {answer} is not one of its {len(kept)} options")
    options = [str(row["options"][j]) for j in kept]
    answer = kept.index(answer)
    return ChoiceRow(id=str(row["question_id"]), question=str(row["question"]), choices=tuple(options),
                     answer_index=answer, subject=str(row["category"]))


def load(source: Source, categories: frozenset[str] | None = None, **options: Any) -> list[Item]:
    """All of MMLU-Pro's test split, or only `categories`; `--limit` counts kept questions."""
    unlimited = dataclasses.replace(source, limit=None) if categories is not None else source
    rows = load_rows(unlimited, FILENAME, hub=HUB, split="test", revision=REVISION, required=REQUIRED)
    kept = [to_row(i, r) for i, r in rows if categories is None or str(r["category"]).lower() in categories]
    if source.limit is not None:
        kept = kept[: source.limit]
    return make_items(kept, **options)


MMLU_PRO, MMLU_PRO_PLAIN = choice_tasks(
    "mmlu_pro", load, "MMLU-Pro test (12,032 questions, 14 categories, up to 10 choices, seeded shuffle)")
MMLU_PRO_STEM, MMLU_PRO_STEM_PLAIN = choice_tasks(
    "mmlu_pro_stem", partial(load, categories=STEM),
    "MMLU-Pro STEM (math, physics, chemistry, biology, computer science, engineering; up to 10 choices)")
