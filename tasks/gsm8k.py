"""GSM8K (grade-school math word problems), test split, 1,319 items.

Local file: `gsm8k_test.jsonl` in the original format (`question`, `answer` whose last line is
`#### N`). Hub: openai/gsm8k, config `main`, at a pinned revision. Item ids are 0-based indices.
"""

from __future__ import annotations

from harness.data import Source, load_rows
from harness.errors import DataError
from harness.grading.numeric import NumericGrader, to_fraction
from harness.records import Item, Message, Prompt
from harness.task import Task

HUB = "openai/gsm8k"
REVISION = "e53f048856ff4f594e959d75785d2c2d37b678ee"

INSTRUCTION = (
    "Solve the following math word problem. Think step by step, then give the final answer "
    "as a number on its own last line, in the form \"The answer is N\".\n\n"
)


def gold_from_solution(solution: str) -> str:
    if "####" not in solution:
        raise ValueError("no '####' line")
    return solution.rsplit("####", 1)[1].strip().replace(",", "")


def load(source: Source) -> list[Item]:
    rows = load_rows(source, "gsm8k_test.jsonl", hub=HUB, config="main", split="test",
                     revision=REVISION, required=("question", "answer"))
    items = []
    for i, row in rows:
        try:
            gold = gold_from_solution(row["answer"])
        except ValueError as exc:
            raise DataError(f"gsm8k row {i} (line {i + 1}): answer has {exc}") from None
        if to_fraction(gold) is None:
            raise DataError(f"gsm8k row {i} (line {i + 1}): final answer {gold!r} is not a number")
        items.append(Item(id=str(i), gold=gold, fields={"question": row["question"]}))
    return items


def render(item: Item) -> Prompt:
    content = INSTRUCTION + "Question: " + item.fields["question"]
    return Prompt(text=content + "\nAnswer:", messages=(Message("user", content),))


GSM8K = Task(
    name="gsm8k",
    version=1,
    kind="math",
    load=load,
    render=render,
    grader=NumericGrader,
    description="GSM8K test (1,319 grade-school word problems), chat prompt, numeric answer",
)
