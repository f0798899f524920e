"""The Task record and the registry that finds every task defined in the `tasks` package.

A benchmark is one module in `tasks/` that defines one or more module-level `Task` objects; the
registry imports each module once and indexes tasks by name. Adding a benchmark touches one file.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Sequence

from harness.data import Source
from harness.errors import UnknownTask
from harness.grading.base import Grader
from harness.records import Grade, Item, Prompt


@dataclass(frozen=True)
class Task:
    name: str
    version: int
    kind: Literal["math", "choice", "code", "other"]
    load: Callable[[Source], list[Item]]
    # One prompt, or several variants (e.g. choice orderings): sample i uses variant i % len(variants).
    render: Callable[[Item], Prompt | Sequence[Prompt]]
    grader: Callable[[], Grader]
    description: str = ""
    # Sampling fields this task needs whatever the model's defaults (stop strings, max_tokens).
    sampling: Mapping[str, Any] = field(default_factory=dict)
    # Extra analyses of a graded run (e.g. position bias for multiple choice), shown and stored with it.
    reports: tuple[Callable[[Sequence[tuple[Item, Sequence[Grade]]]], "Report"], ...] = ()


@dataclass(frozen=True)
class Report:
    """A task-specific analysis of one graded run: `data` goes into JSON output, `text` to the terminal."""

    name: str
    data: Mapping[str, Any]
    text: str


_REGISTRY: dict[str, Task] | None = None


def registry() -> dict[str, Task]:
    global _REGISTRY
    if _REGISTRY is None:
        import harness.tasks as pkg

        found: dict[str, Task] = {}
        for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            if mod.name.startswith("_"):
                continue
            module = importlib.import_module(f"{pkg.__name__}.{mod.name}")
            for value in vars(module).values():
                if isinstance(value, Task):
                    if value.name in found and found[value.name] is not value:
                        raise RuntimeError(f"task name {value.name!r} defined twice ({mod.name})")
                    found[value.name] = value
        _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def get_task(name: str) -> Task:
    if name.startswith("lm_eval:"):  # an lm-eval generate_until task, built by harness.lmeval_task
        from harness.tasks._lmeval import build_task

        return build_task(name)
    tasks = registry()
    if name not in tasks:
        raise UnknownTask(f"unknown task {name!r}; known tasks: {', '.join(tasks)}")
    return tasks[name]


def get_tasks(names: Sequence[str]) -> list[Task]:
    return [get_task(n) for n in names]
