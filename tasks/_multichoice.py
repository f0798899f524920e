"""Building multiple-choice tasks: seeded orderings per item, prompts, and the task pair factory.

Orderings. Each item gets its own `random.Random` seeded from (`shuffle_seed` option, item id), so an
item's ordering does not depend on which other items are loaded (`--limit`) or on the process. The
base ordering is that seeded shuffle (or the dataset's order with `shuffle=False`); `--permutations N`
adds cyclic shifts of it, evenly spaced, capped at the number of choices, so with N equal to the number
of choices the gold answer sits once at every position. `item.meta["perms"]` holds them: `perm[j]` is
the ORIGINAL index of the choice shown at position j; sample i of an item sees `perms[i % len(perms)]`.

Task options (`--task-arg NAME=VALUE`; `--permutations N` sets the first): `permutations` (int, default 1),
`shuffle` (bool, default per task), `shuffle_seed` (int, default 0).

Prompts. `cot`: zero-shot chain of thought ending in the fixed line "Answer: $LETTER". `plain`: the
question and options, answered by a letter alone (for base models: the text ends in "Answer:").
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterable, Sequence

from harness.data import Source, load_rows
from harness.errors import DataError
from harness.grading.choice.grade import LETTERS, ChoiceGrader
from harness.records import Item, Message, Prompt
from harness.grading.choice.position_bias import position_bias_report
from harness.task import Task, TaskOption

MAX_CHOICES = 10


@dataclass(frozen=True, slots=True)
class ChoiceRow:
    """One question as the dataset orders it; `answer_index` points into `choices`."""

    id: str
    question: str
    choices: tuple[str, ...]
    answer_index: int
    subject: str | None = None


def item_seed(shuffle_seed: int, item_id: str) -> int:
    """A per-item seed that depends only on the run's shuffle seed and the item's id."""
    digest = hashlib.sha256(f"{shuffle_seed}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def orderings(n_choices: int, n_perms: int, seed: int, shuffle: bool = True) -> tuple[tuple[int, ...], ...]:
    """`min(n_perms, n_choices)` orderings: a seeded shuffle (or the identity) and evenly spaced
    cyclic shifts of it. Each ordering lists original indices in shown order."""
    if n_perms < 1:
        raise ValueError(f"permutations must be >= 1, got {n_perms}")
    base = list(range(n_choices))
    if shuffle:
        random.Random(seed).shuffle(base)
    m = min(n_perms, n_choices)
    shifts = [(v * n_choices) // m for v in range(m)]
    return tuple(tuple(base[s:] + base[:s]) for s in shifts)


def choice_options(shuffle_default: bool = True) -> tuple[TaskOption, ...]:
    """The options every multiple-choice task declares."""
    return (
        TaskOption("permutations", int, 1, "evaluate each item under N orderings (cyclic shifts of its base order)"),
        TaskOption("shuffle", bool, shuffle_default, "base order: a seeded shuffle per item, or the dataset's order"),
        TaskOption("shuffle_seed", int, 0, "seed of the per-item shuffles"),
    )


def make_items(rows: Iterable[ChoiceRow], *, permutations: int = 1, shuffle: bool = True,
               shuffle_seed: int = 0) -> list[Item]:
    """Items with gold = the ORIGINAL letter and the orderings each sample index will see."""
    n_perms = permutations
    if n_perms < 1:
        raise DataError(f"--permutations must be at least 1, got {n_perms}")
    items = []
    for row in rows:
        n = len(row.choices)
        if not 2 <= n <= MAX_CHOICES:
            raise DataError(f"item {row.id}: {n} choices (need 2 to {MAX_CHOICES})")
        if not 0 <= row.answer_index < n:
            raise DataError(f"item {row.id}: answer_index {row.answer_index} out of range for {n} choices")
        perms = orderings(n, n_perms, item_seed(shuffle_seed, row.id), shuffle)
        fields: dict[str, Any] = {"question": row.question, "choices": list(row.choices)}
        if row.subject is not None:
            fields["subject"] = row.subject
        items.append(Item(
            id=row.id, gold=LETTERS[row.answer_index], fields=fields,
            meta={"perms": [list(p) for p in perms], "shuffle": shuffle, "shuffle_seed": shuffle_seed},
        ))
    return items


def letter_list(n: int) -> str:
    return ", ".join(LETTERS[:n - 1]) + " or " + LETTERS[n - 1]


def _shown(item: Item, perm: Sequence[int], sep: str) -> str:
    choices = item.fields["choices"]
    return "\n".join(f"{LETTERS[j]}{sep} {choices[p]}" for j, p in enumerate(perm))


COT_INSTRUCTION = (
    "Answer the following multiple choice question. Think step by step, then end your response with a "
    "line of the form \"Answer: $LETTER\" (without quotes), where LETTER is one of {letters}."
)
PLAIN_INSTRUCTION = "The following is a multiple choice question{about}. Reply with only the letter ({letters}) " \
                    "of the correct answer."


def render_cot(item: Item) -> tuple[Prompt, ...]:
    """One zero-shot chain-of-thought prompt per ordering of the item."""
    out = []
    for perm in item.meta["perms"]:
        content = (COT_INSTRUCTION.format(letters=letter_list(len(perm))) + "\n\n" + item.fields["question"]
                   + "\n\n" + _shown(item, perm, ")"))
        out.append(Prompt(text=content + "\n\nLet's think step by step.", messages=(Message("user", content),)))
    return tuple(out)


def render_plain(item: Item) -> tuple[Prompt, ...]:
    """One answer-only prompt per ordering; the text form ends in "Answer:" for base models."""
    subject = item.fields.get("subject")
    about = f" about {str(subject).replace('_', ' ')}" if subject else ""
    out = []
    for perm in item.meta["perms"]:
        head = PLAIN_INSTRUCTION.format(about=about, letters=letter_list(len(perm)))
        body = "Question: " + item.fields["question"] + "\n" + _shown(item, perm, ".")
        out.append(Prompt(text=head + "\n\n" + body + "\nAnswer:", messages=(Message("user", head + "\n\n" + body),)))
    return tuple(out)


PLAIN_SAMPLING = {"max_tokens": 32, "stop": ("\nQuestion:",)}


def choice_tasks(name: str, load: Callable[..., list[Item]], description: str, version: int = 1,
                 cot_sampling: dict[str, Any] | None = None, shuffle_default: bool = True) -> tuple[Task, Task]:
    """The pair of tasks for one data set: `name` (chain of thought) and `name_plain` (letter only).
    `load(source, **options)` takes the options of `choice_options`."""
    options = choice_options(shuffle_default)
    cot = Task(name=name, version=version, kind="choice", load=load, render=render_cot, grader=ChoiceGrader,
               description=description + "; zero-shot chain of thought, 'Answer: X' line",
               sampling=dict(cot_sampling or {}), reports=(position_bias_report,), options=options)
    plain = Task(name=f"{name}_plain", version=version, kind="choice", load=load, render=render_plain,
                 grader=partial(ChoiceGrader, direct=True), description=description + "; answer letter only",
                 sampling=dict(PLAIN_SAMPLING), reports=(position_bias_report,), options=options)
    return cot, plain


def row_from_local(i: int, row: dict[str, Any], where: str) -> ChoiceRow:
    """A `question` / `choices` / `answer_index` row; id = the row's `id`, else its 0-based index."""
    choices = row["choices"]
    if not isinstance(choices, list) or not all(isinstance(c, (str, int, float)) for c in choices):
        raise DataError(f"{where} row {i} (line {i + 1}): `choices` must be a list of strings")
    try:
        answer = int(row["answer_index"])
    except (TypeError, ValueError):
        raise DataError(f"{where} row {i} (line {i + 1}): `answer_index` {row['answer_index']!r} is not an "
                        f"integer") from None
    rid = row.get("id")
    return ChoiceRow(id=str(i) if rid is None else str(rid), question=str(row["question"]),
                     choices=tuple(str(c) for c in choices), answer_index=answer,
                     subject=None if row.get("subject") is None else str(row["subject"]))


def load_local_jsonl(source: Source, filename: str, **options: Any) -> list[Item]:
    """Items from `data_dir/filename`, a JSONL file with `question`, `choices` (list), `answer_index`
    and optionally `id` and `subject`."""
    if source.data_dir is None:
        raise DataError(f"{filename} is a local file: pass --data-dir DIR (or set $HARNESS_DATA_DIR) with it in DIR")
    rows = load_rows(source, filename, hub=None, required=("question", "choices", "answer_index"))
    parsed = [row_from_local(i, row, filename) for i, row in rows]
    ids = [r.id for r in parsed]
    if len(set(ids)) != len(ids):
        dup = next(x for x in ids if ids.count(x) > 1)
        raise DataError(f"{filename}: item id {dup!r} appears more than once")
    return make_items(parsed, **options)


def local_choice_tasks(name: str, filename: str, description: str, version: int = 1) -> tuple[Task, Task]:
    """The task pair for a local JSONL multiple-choice file: adding one is one line in `tasks/`."""
    return choice_tasks(name, partial(load_local_jsonl, filename=filename), description, version)
