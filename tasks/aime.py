"""AIME 2024 and 2025 (American Invitational Mathematics Examination): 30 problems a year, integer
answers 0-999, graded by the math grader (its in-process fast path: no worker round trips).

Local files (in the data folder): `aime_2024.jsonl` and `aime_2025.jsonl`, one JSON object per line
with `problem` and `answer` (and optionally `id`). Hub: HuggingFaceH4/aime_2024 (split `train`) and
math-ai/aime25 (split `test`). Item ids are `<year>/<id>` with the dataset's own id where it has one,
else `<year>/<0-based index>`.

Tasks: `aime` (both years, 60 items), `aime24`, `aime25`.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.data import Source, load_rows
from harness.errors import DataError
from harness.grading.math import MathGrader
from harness.records import Item, Message, Prompt
from harness.task import Task


@dataclass(frozen=True)
class Year:
    year: int
    filename: str
    hub: str
    split: str
    revision: str | None = None


YEARS = {
    2024: Year(2024, "aime_2024.jsonl", "HuggingFaceH4/aime_2024", "train"),
    2025: Year(2025, "aime_2025.jsonl", "math-ai/aime25", "test"),
}

INSTRUCTION = (
    "Solve the following problem from the American Invitational Mathematics Examination. The answer is "
    "an integer from 0 to 999. Think step by step, and put your final answer within \\boxed{}.\n\n"
)


def load_year(source: Source, year: int) -> list[Item]:
    y = YEARS[year]
    rows = load_rows(source, y.filename, hub=y.hub, split=y.split, revision=y.revision,
                     required=("problem", "answer"))
    items = []
    for i, row in rows:
        answer = str(row["answer"]).strip()
        if not answer.lstrip("-").isdigit():
            raise DataError(f"{y.filename} row {i} (line {i + 1}): answer {answer!r} is not an integer")
        raw_id = row.get("id")
        items.append(Item(
            id=f"{year}/{raw_id if raw_id not in (None, '') else i}",
            gold=str(int(answer)),
            fields={"problem": row["problem"]},
            meta={"year": year},
        ))
    return items


def load_all(source: Source) -> list[Item]:
    items = load_year(source, 2024) + load_year(source, 2025)
    return items[: source.limit] if source.limit is not None else items


def render(item: Item) -> Prompt:
    content = INSTRUCTION + item.fields["problem"]
    return Prompt(text=content + "\n\nSolution:", messages=(Message("user", content),))


AIME = Task(
    name="aime",
    version=1,
    kind="math",
    load=load_all,
    render=render,
    grader=MathGrader,
    description="AIME 2024 and 2025 (60 problems, integer answers), chat prompt, \\boxed{} answer",
)

AIME24 = Task(
    name="aime24",
    version=1,
    kind="math",
    load=lambda source: load_year(source, 2024),
    render=render,
    grader=MathGrader,
    description="AIME 2024 (30 problems), chat prompt, \\boxed{} answer",
)

AIME25 = Task(
    name="aime25",
    version=1,
    kind="math",
    load=lambda source: load_year(source, 2025),
    render=render,
    grader=MathGrader,
    description="AIME 2025 (30 problems), chat prompt, \\boxed{} answer",
)
