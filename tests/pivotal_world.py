"""A model world for pivotal token tests: the answer is decided by one digit, so where p(correct)
jumps is known. `answers(task, items)` is a FakeBackend answer function."""

from __future__ import annotations

import random


def answers(task, items, p_right: float = 0.5, lead: str = " So it is "):
    """Answers `lead` X ". The answer is X." with X the gold (probability p_right) or gold + 1,
    continuing whatever prefix the prompt already holds: the first digit where X and gold + 1
    differ decides."""
    golds = {task.render(it).text: int(it.gold) for it in items}

    def answer(text: str, rng: random.Random) -> str:
        base = next(b for b in golds if text.startswith(b))
        prefix, g = text[len(base):], golds[base]
        right, wrong = f"{lead}{g}. The answer is {g}.", f"{lead}{g + 1}. The answer is {g + 1}."
        options = [t for t in (right, wrong) if t.startswith(prefix)]
        if not options:
            return " ?"
        pick = options[0] if len(options) == 1 else (right if rng.random() < p_right else wrong)
        return pick[len(prefix):]

    return answer
