"""MATH-500 (the 500-problem test subset of MATH used by PRM800K), graded by the symbolic math grader.

Local file: `math500_test.jsonl` (`problem`, `solution`, `answer`, `subject`, `level`, `unique_id`).
Hub: HuggingFaceH4/MATH-500, split `test` (same fields). Item ids are the dataset's `unique_id`
(e.g. `test/precalculus/807.json`), so runs, ingested generations and other tools line up.

Two tasks:
- `math500`: a chat prompt asking for step-by-step work and the final answer in `\\boxed{}`;
- `math500_fewshot`: the 4-shot Minerva-style prompt for base models ("Problem: ... Solution: ...
  Final Answer: The final answer is X. I hope it is correct."), stopping at the next "Problem:".
"""

from __future__ import annotations

from harness.data import Source, load_rows
from harness.errors import DataError
from harness.grading.math import MathGrader
from harness.records import Item, Message, Prompt
from harness.task import Task

HUB = "HuggingFaceH4/MATH-500"
REVISION = None  # the hub copy has one revision of this data; pin here when it matters

INSTRUCTION = (
    "Solve the following math problem. Think step by step, and put your final answer within "
    "\\boxed{}.\n\n"
)

# Four worked problems in the Minerva format (Lewkowycz et al., 2022); written out here as prompt data.
FEWSHOT = [
    (
        "Find the domain of the expression  $\\frac{\\sqrt{x-2}}{\\sqrt{5-x}}$.",
        "The expressions inside each square root must be non-negative. Therefore, $x-2 \\ge 0$, so "
        "$x\\ge2$, and $5 - x \\ge 0$, so $x \\le 5$. Also, the denominator cannot be equal to zero, so "
        "$5-x>0$, which gives $x<5$. Therefore, the domain of the expression is $\\boxed{[2,5)}$.\n"
        "Final Answer: The final answer is $[2,5)$. I hope it is correct.",
    ),
    (
        "If $\\det \\mathbf{A} = 2$ and $\\det \\mathbf{B} = 12,$ then find $\\det (\\mathbf{A} \\mathbf{B}).$",
        "We have that $\\det (\\mathbf{A} \\mathbf{B}) = (\\det \\mathbf{A})(\\det \\mathbf{B}) = (2)(12) = "
        "\\boxed{24}.$\nFinal Answer: The final answer is $24$. I hope it is correct.",
    ),
    (
        "Terrell usually lifts two 20-pound weights 12 times. If he uses two 15-pound weights instead, how "
        "many times must Terrell lift them in order to lift the same total weight?",
        "If Terrell lifts two 20-pound weights 12 times, he lifts a total of $2\\cdot 12\\cdot20=480$ pounds "
        "of weight.  If he lifts two 15-pound weights instead for $n$ times, he will lift a total of "
        "$2\\cdot15\\cdot n=30n$ pounds of weight.  Equating this to 480 pounds, we can solve for $n$:\n"
        "\\begin{align*}\n30n&=480\\\\\n\\Rightarrow\\qquad n&=480/30=\\boxed{16}\n\\end{align*}\n"
        "Final Answer: The final answer is $16$. I hope it is correct.",
    ),
    (
        "If the system of equations\n\n\\begin{align*}\n6x-4y&=a,\\\\\n6y-9x &=b.\n\\end{align*}has a "
        "solution $(x, y)$ where $x$ and $y$ are both nonzero, find $\\frac{a}{b},$ assuming $b$ is nonzero.",
        "If we multiply the first equation by $-\\frac{3}{2}$, we obtain\n\n$$6y-9x=-\\frac{3}{2}a.$$Since "
        "we also know that $6y-9x=b$, we have\n\n$$-\\frac{3}{2}a=b\\Rightarrow\\frac{a}{b}="
        "\\boxed{-\\frac{2}{3}}.$$\nFinal Answer: The final answer is $-\\frac{2}{3}$. I hope it is correct.",
    ),
]
FEWSHOT_STOP = ("\n\nProblem:", "\nProblem:")


def load(source: Source) -> list[Item]:
    rows = load_rows(source, "math500_test.jsonl", hub=HUB, split="test", revision=REVISION,
                     required=("problem", "answer", "unique_id"))
    items = []
    seen: set[str] = set()
    for i, row in rows:
        uid = str(row["unique_id"])
        if uid in seen:
            raise DataError(f"math500 row {i} (line {i + 1}): duplicate unique_id {uid!r}")
        seen.add(uid)
        items.append(Item(
            id=uid,
            gold=str(row["answer"]),
            fields={"problem": row["problem"]},
            meta={"subject": row.get("subject"), "level": row.get("level")},
        ))
    return items


def render(item: Item) -> Prompt:
    content = INSTRUCTION + item.fields["problem"]
    return Prompt(text=content + "\n\nSolution:", messages=(Message("user", content),))


def fewshot_prefix() -> str:
    return "".join(f"Problem:\n{p}\n\nSolution:\n{s}\n\n" for p, s in FEWSHOT)


def render_fewshot(item: Item) -> Prompt:
    return Prompt(text=fewshot_prefix() + f"Problem:\n{item.fields['problem']}\n\nSolution:\n")


MATH500 = Task(
    name="math500",
    version=1,
    kind="math",
    load=load,
    render=render,
    grader=MathGrader,
    description="MATH-500 (500 competition problems, 7 subjects), chat prompt, \\boxed{} answer, symbolic grading",
)

MATH500_FEWSHOT = Task(
    name="math500_fewshot",
    version=1,
    kind="math",
    load=load,
    render=render_fewshot,
    grader=MathGrader,
    description="MATH-500, 4-shot Minerva-style prompt for base models, symbolic grading",
    sampling={"stop": FEWSHOT_STOP},
)
