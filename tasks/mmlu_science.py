"""MMLU science (1,542 college and high-school science questions from the MMLU test split, 10 subjects).

Local only: `mmlu_science_test.jsonl` in the data folder (`id`, `question`, 4 `choices`,
`answer_index`, `subject`); item ids are the file's `id` (`mmlu/<subject>/test/<row>`). Choices are
shuffled per item with a seed; `--permutations N` shows each item in N orderings.
"""

from __future__ import annotations

from harness.tasks._multichoice import local_choice_tasks

MMLU_SCIENCE, MMLU_SCIENCE_PLAIN = local_choice_tasks(
    "mmlu_science", "mmlu_science_test.jsonl",
    "MMLU science test (1,542 questions, 10 subjects, 4 choices, seeded shuffle)",
)
