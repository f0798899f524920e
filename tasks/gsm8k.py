"""GSM8K (grade-school math word problems), test split, 1,319 items.

Local file: `gsm8k_test.jsonl` in the original format (`question`, `answer` whose last line is
`#### N`). Hub: openai/gsm8k, config `main`, at a pinned revision. Item ids are 0-based indices.

Graded by the math grader: GSM8K answers are plain numbers, so every check runs on its in-process
exact-rational fast path (no worker process is started), and `18`, `18.00` and `$18` vote together.
Two tasks: `gsm8k` (chat prompt) and `gsm8k_fewshot` (the usual 8-shot chain-of-thought prompt of
Wei et al., 2022, for base models, stopping at the next "Question:").
"""

from __future__ import annotations

import re
from fractions import Fraction

from harness.data import Source, load_rows
from harness.errors import DataError
from harness.grading.math import MathGrader
from harness.records import Item, Message, Prompt
from harness.task import Task

HUB = "openai/gsm8k"
REVISION = "e53f048856ff4f594e959d75785d2c2d37b678ee"

INSTRUCTION = (
    "Solve the following math word problem. Think step by step, then give the final answer "
    "as a number on its own last line, in the form \"The answer is N\".\n\n"
)


def _is_number(s: str) -> bool:
    try:
        Fraction(s)
    except (ValueError, ZeroDivisionError):
        return False
    return True


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
        if not _is_number(gold):
            raise DataError(f"gsm8k row {i} (line {i + 1}): final answer {gold!r} is not a number")
        items.append(Item(id=str(i), gold=gold, fields={"question": row["question"], "answer": row["answer"]}))
    return items


_CALC = re.compile(r"<<[^>]*>>")


def completion_of(solution: str) -> str:
    """A GSM8K-style worked solution in the answer format the prompt asks for: calculator
    annotations dropped, lines joined, the `#### N` line written as `The answer is N.`"""
    body, _, gold = solution.rpartition("####")
    body = _CALC.sub("", body).strip().replace("\n", " ")
    return f"{body} The answer is {gold.strip()}."


def reference(item: Item) -> str | None:
    """The item's own worked solution as an answer (None for an item loaded without one)."""
    solution = item.fields.get("answer")
    return " " + completion_of(solution) if isinstance(solution, str) and "####" in solution else None


def render(item: Item) -> Prompt:
    content = INSTRUCTION + "Question: " + item.fields["question"]
    return Prompt(text=content + "\nAnswer:", messages=(Message("user", content),))


# The 8 exemplars of the chain-of-thought paper's GSM8K prompt, written out here as prompt data.
FEWSHOT = [
    ("There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, "
     "there will be 21 trees. How many trees did the grove workers plant today?",
     "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have "
     "been 21 - 15 = 6. The answer is 6."),
    ("If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
     "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5."),
    ("Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?",
     "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, "
     "they had 74 - 35 = 39. The answer is 39."),
    ("Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did "
     "Jason give to Denny?",
     "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. "
     "The answer is 8."),
    ("Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?",
     "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. "
     "5 + 4 = 9. The answer is 9."),
    ("There were nine computers in the server room. Five more computers were installed each day, from monday to "
     "thursday. How many computers are now in the server room?",
     "There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 "
     "computers were added. 9 + 20 is 29. The answer is 29."),
    ("Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf "
     "balls did he have at the end of wednesday?",
     "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, "
     "he had 35 - 2 = 33 golf balls. The answer is 33."),
    ("Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
     "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 "
     "dollars left. 23 - 15 is 8. The answer is 8."),
]
FEWSHOT_STOP = ("\n\nQuestion:", "\nQuestion:")


def render_fewshot(item: Item) -> Prompt:
    shots = "".join(f"Question: {q}\nAnswer: {a}\n\n" for q, a in FEWSHOT)
    return Prompt(text=shots + f"Question: {item.fields['question']}\nAnswer:")


GSM8K = Task(
    name="gsm8k",
    version=2,  # 2: graded by the math grader (was the numeric grader)
    kind="math",
    load=load,
    render=render,
    grader=MathGrader,
    description="GSM8K test (1,319 grade-school word problems), chat prompt, numeric answer",
    reference=reference,
)

GSM8K_FEWSHOT = Task(
    name="gsm8k_fewshot",
    version=1,
    kind="math",
    load=load,
    render=render_fewshot,
    grader=MathGrader,
    description="GSM8K test, the standard 8-shot chain-of-thought prompt for base models",
    sampling={"stop": FEWSHOT_STOP},
    reference=reference,
)
