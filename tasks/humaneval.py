"""HumanEval: 164 hand-written Python functions with hidden unit tests (Chen et al., 2021).

Local file: `HumanEval.jsonl.gz` (openai/human-eval's own file, `task_id`, `prompt`, `entry_point`,
`canonical_solution`, `test`). Hub: openai/openai_humaneval, split test. Item id = `task_id`
(`HumanEval/0`). A base model continues the prompt (`Prompt.text`); a chat model is asked for the
whole function in a fenced block (`Prompt.messages`); the grader scores either form.
"""

from __future__ import annotations

from functools import partial

from harness.data import Source, load_rows
from harness.grading.code.extract import example_calls
from harness.grading.code.grade import CodeGrader
from harness.grading.code.split import split_tests
from harness.records import Item, Message, Prompt
from harness.task import Task

HUB = "openai/openai_humaneval"
REVISION = None  # not pinned yet: the hub was not reachable when this was written

INSTRUCTION = (
    "Complete the following Python function. Reply with the complete function, including the "
    "imports and helper functions it needs, in a single ```python code block.\n\n"
)
# Stops that end a base model's continuation without cutting a chat answer's helpers or fences short.
STOP = ("\nif __name__", "\nprint(", "\nassert ")


def load(source: Source) -> list[Item]:
    rows = load_rows(source, "HumanEval.jsonl.gz", hub=HUB, split="test", revision=REVISION,
                     required=("task_id", "prompt", "entry_point", "canonical_solution", "test"))
    items = []
    for _, row in rows:
        prompt, entry = row["prompt"], row["entry_point"]
        tests = f"{row['test']}\n\ncheck({entry})\n"
        split = split_tests(tests, entry)  # parsed only; see harness.grading.code.split
        items.append(Item(
            id=row["task_id"],
            gold=prompt + row["canonical_solution"],
            fields={
                "prompt_code": prompt,
                "preamble": prompt,
                "entry_point": entry,
                "tests": tests,
                "split_tests": split.source,
                "split_reason": split.reason,
                "examples": example_calls(prompt, entry),
            },
        ))
    return items


def render(item: Item) -> Prompt:
    code = item.fields["prompt_code"]
    chat = INSTRUCTION + "```python\n" + code.rstrip("\n") + "\n```"
    return Prompt(text=code, messages=(Message("user", chat),))


HUMANEVAL = Task(
    name="humaneval",
    version=1,
    kind="code",
    load=load,
    render=render,
    grader=partial(CodeGrader, "humaneval"),
    description="HumanEval (164 Python functions), continuation or fenced chat answer, sandboxed unit tests",
    sampling={"stop": STOP},
)
