"""Graders: extract an answer from each sample, canonicalize it, give a verdict, group equivalents.

Each kind of task (`Task.kind`: math, choice, code) is a package here; its `score` module declares
how lines made elsewhere are graded (`SCORER`, a `harness.grading.base.Scorer`), which is how
`harness score` finds a kind's grader: through the task's kind, with no table of its own. A new kind
is a package with a `score` module.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.grading.base import Scorer


def kinds() -> list[str]:
    """The kinds with a grading package that scores lines (a `score` module)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg
                  and importlib.util.find_spec(f"{__name__}.{m.name}.score") is not None)


def scorer(kind: str) -> "Scorer | None":
    """How lines of task kind `kind` are graded; None for a kind without one."""
    if kind not in kinds():
        return None
    return importlib.import_module(f"{__name__}.{kind}.score").SCORER
