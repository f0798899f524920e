"""MBPP: short Python programming problems with three assert tests each (Austin et al., 2021).

`mbpp` is the sanitized test split (the hand-verified subset, task ids 11-510: 257 items); local file
`mbpp_sanitized.jsonl` (fields `task_id`, `prompt`, `code`, `test_imports`, `test_list`), hub
google-research-datasets/mbpp config `sanitized`. `mbpp_full` is the original test split (ids 11-510,
500 items) from `mbpp.jsonl` (`text`, `code`, `test_list`, `test_setup_code`) or config `full`.
Item id = MBPP's `task_id`. The prompt shows the first test as the example (the usual MBPP prompt), so
the behavioural vote may call the function on that example's inputs; grading runs all three tests.
"""

from __future__ import annotations

import ast
import warnings
from functools import partial
from typing import Any

from harness.data import Source, load_rows
from harness.errors import DataError
from harness.grading.code.extract import example_calls
from harness.grading.code.grade import CodeGrader
from harness.grading.code.split import split_tests
from harness.records import Item, Message, Prompt
from harness.task import Task

HUB = "google-research-datasets/mbpp"
REVISION = None  # not pinned yet: the hub was not reachable when this was written
TEST_IDS = range(11, 511)  # the README's test split

STOP = ("\nif __name__", "\nprint(", "\nassert ", '\n"""')


def entry_point(code: str, test: str) -> str:
    """The function the tests call: the first name called in the test that the reference defines."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the dataset's own invalid escapes ('\w' in plain strings)
            defined = {n.name for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            calls = [n.func.id for n in ast.walk(ast.parse(test))
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    except SyntaxError as exc:
        raise ValueError(f"does not parse ({exc.msg})") from None
    for name in calls:
        if name in defined:
            return name
    raise ValueError("the first test calls no function that the reference defines")


def _item(row: dict[str, Any], description: str, imports: list[str], setup: str) -> Item:
    tests_list = list(row["test_list"])
    entry = entry_point(row["code"], tests_list[0])
    example = tests_list[0]
    prompt_code = f'"""\n{description.strip()}\n{example}\n"""\n'
    tests = "\n".join([*imports, setup, *tests_list]).strip("\n") + "\n"
    split = split_tests(tests, entry)  # parsed only; see harness.grading.code.split
    return Item(
        id=str(row["task_id"]),
        gold=row["code"],
        fields={
            "description": description.strip(),
            "example_test": example,
            "prompt_code": prompt_code,
            "preamble": "",
            "entry_point": entry,
            "tests": tests,
            "split_tests": split.source,
            "split_reason": split.reason,
            "examples": example_calls(example, entry),
        },
    )


def _load(source: Source, *, sanitized: bool) -> list[Item]:
    filename = "mbpp_sanitized.jsonl" if sanitized else "mbpp.jsonl"
    text_field = "prompt" if sanitized else "text"
    # The limit applies to test items, not to the file's first lines (which are train/prompt items).
    rows = load_rows(Source(source.data_dir, None), filename, hub=HUB,
                     config="sanitized" if sanitized else "full", split="test", revision=REVISION,
                     required=("task_id", text_field, "code", "test_list"))
    items = []
    for i, row in rows:
        if int(row["task_id"]) not in TEST_IDS:
            continue
        imports = list(row.get("test_imports") or [])
        try:
            items.append(_item(row, row[text_field], imports, row.get("test_setup_code") or ""))
        except ValueError as exc:
            raise DataError(f"{filename} row {i} (task {row['task_id']}): reference {exc}") from None
        if source.limit is not None and len(items) >= source.limit:
            break
    return items


def render(item: Item) -> Prompt:
    f = item.fields
    chat = (f"You are an expert Python programmer, and here is your task: {f['description']} "
            f"Your code should pass this test:\n\n{f['example_test']}\n\n"
            "Write the function, with the imports it needs, in a single ```python code block.")
    return Prompt(text=f["prompt_code"], messages=(Message("user", chat),))


MBPP = Task(
    name="mbpp",
    version=1,
    kind="code",
    load=partial(_load, sanitized=True),
    render=render,
    grader=partial(CodeGrader, "mbpp"),
    description="MBPP sanitized test split (257 problems), first test shown as example, all tests run sandboxed",
    sampling={"stop": STOP},
)

MBPP_FULL = Task(
    name="mbpp_full",
    version=1,
    kind="code",
    load=partial(_load, sanitized=False),
    render=render,
    grader=partial(CodeGrader, "mbpp_full"),
    description="MBPP original test split (500 problems, ids 11-510), first test shown as example",
    sampling={"stop": STOP},
)
