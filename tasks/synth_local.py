"""Synthesized items, loaded from JSONL files that `harness synth ...` writes into a data folder.

- `gsm8k_variants`: `gsm8k_variants.jsonl` from `harness synth variants` (ids `<parent>/v<n>`, so
  they line up with their GSM8K parents); GSM8K's prompt and the math grader.
- `mmlu_science_numeric`: `mmlu_science_numeric.jsonl` from `harness synth numeric-form` (ids
  `<parent>/num`); graded with each item's recorded tolerance and unit.
- `synth_rewrites`: `synth_rewrites.jsonl` from `harness synth rewrite`; the math grader.

Each line: `id`, `question`, `gold`, optional `answer` (a worked solution) and `meta`. Local only:
`harness run --task gsm8k_variants --data-dir DIR`.
"""

from __future__ import annotations

from functools import partial

from harness.data import Source, load_rows
from harness.grading.math import MathGrader
from harness.records import Item, Message, Prompt
from harness.task import Task
from harness.grading.math.tolerance import ToleranceGrader
from harness.items_io import REQUIRED, row_to_item

from harness.tasks.gsm8k import render as render_gsm8k

NUMERIC_INSTRUCTION = (
    "Solve the following problem. Think step by step, then give the final answer as a single number on "
    "its own last line, in the form \"The answer is N\".\n\n"
)


def load_synth(filename: str, source: Source) -> list[Item]:
    rows = load_rows(source, filename, hub=None, required=REQUIRED)
    return [row_to_item(row, f"{filename}:{i + 1}") for i, row in rows]


def render_numeric(item: Item) -> Prompt:
    content = NUMERIC_INSTRUCTION + "Question: " + item.fields["question"]
    return Prompt(text=content + "\nAnswer:", messages=(Message("user", content),))


GSM8K_VARIANTS = Task(
    name="gsm8k_variants",
    version=1,
    kind="math",
    load=partial(load_synth, "gsm8k_variants.jsonl"),
    render=render_gsm8k,
    grader=MathGrader,
    description="numeric variants of GSM8K items (gsm8k_variants.jsonl from `harness synth variants`)",
)

MMLU_SCIENCE_NUMERIC = Task(
    name="mmlu_science_numeric",
    version=1,
    kind="math",
    load=partial(load_synth, "mmlu_science_numeric.jsonl"),
    render=render_numeric,
    grader=ToleranceGrader,
    description="MMLU science items with numeric answers, asked free-response (`harness synth numeric-form`)",
)

SYNTH_REWRITES = Task(
    name="synth_rewrites",
    version=1,
    kind="math",
    load=partial(load_synth, "synth_rewrites.jsonl"),
    render=render_numeric,
    grader=MathGrader,
    description="hard prompts rewritten into verified numeric questions (`harness synth rewrite`)",
)
