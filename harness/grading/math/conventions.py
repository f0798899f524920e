"""Named conventions: one word for a set of the math grader's convention flags, so a user comparing with
published numbers can say which reading of a borderline answer they want.

- `strict` (the default): the flags' defaults. A decimal is the number it spells (`0.6667` is not 2/3),
  `33.5\\%` is 33.5, a comma between digits separates list items or thousands, words are words.
- `lenient` (compatible with Math-Verify's defaults): a decimal answer is a rounding to the precision
  it gives, and one written with an ellipsis (`0.666...`) a rounding or a truncation
  (`decimals="rounded"`); a percentage is either the number before the sign or its hundredth
  (`percent="either"`); a single number with a decimal comma (`3,5`, not `1,234`) is also read as
  3.5 (`decimal_comma="either"`); "infinitely many", "all real numbers" and "no solution" are
  \\infty, \\mathbb{R} and the empty set (`words=True`).
Bare lists compare in any order under both. Single flags (`--decimals`, `--percent`, ...) override
the named set; `describe` spells the result for the store ("lenient", "strict, decimals=rounded").
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, Mapping

from harness.grading.math.grader import MathOptions

_CONVENTION_FIELDS = ("percent", "rel_tol", "decimals", "decimal_comma", "list_order", "words")

CONVENTIONS: dict[str, MathOptions] = {
    "strict": MathOptions(),
    "lenient": MathOptions(percent="either", decimals="rounded", decimal_comma="either", words=True),
}
DEFAULT = "strict"


def math_options(conventions: str | None = None, flags: Mapping[str, Any] | None = None) -> MathOptions:
    """The named set (default strict) with the given flags (those not None) on top; unknown names raise."""
    name = conventions or DEFAULT
    if name not in CONVENTIONS:
        raise ValueError(f"unknown conventions {name!r}; known: {', '.join(CONVENTIONS)}")
    known = {f.name for f in fields(MathOptions)}
    given = {k: v for k, v in (flags or {}).items() if v is not None and k in known}
    return replace(CONVENTIONS[name], **given)


def describe(options: MathOptions) -> str:
    """The conventions an options set grades under: a name, plus the flags that differ from it
    (the name it differs least from; strict on a tie)."""
    best = None
    for name, preset in CONVENTIONS.items():
        diff = [f"{k}={getattr(options, k)}" for k in _CONVENTION_FIELDS if getattr(options, k) != getattr(preset, k)]
        if best is None or len(diff) < len(best[1]):
            best = (name, diff)
    assert best is not None
    return ", ".join([best[0], *best[1]])
