"""Benchmarks, and the registry that finds them.

A benchmark is one module here that defines one or more module-level `harness.task.Task` objects;
the registry imports each module once (modules starting with `_` are helpers, not benchmarks) and
indexes tasks by name. Adding a benchmark touches one file.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from typing import Sequence

from harness.errors import UnknownTask
from harness.task import Task

_REGISTRY: dict[str, Task] | None = None


def registry() -> dict[str, Task]:
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, Task] = {}
        for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if mod.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{mod.name}")
            for value in vars(module).values():
                if isinstance(value, Task):
                    if value.name in found and found[value.name] is not value:
                        raise RuntimeError(f"task name {value.name!r} defined twice ({mod.name})")
                    found[value.name] = value
        _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def get_task(name: str) -> Task:
    if name.startswith("lm_eval:"):  # an lm-eval generate_until task, built by harness.tasks._lmeval
        from harness.tasks._lmeval import build_task

        return build_task(name)
    tasks = registry()
    if name not in tasks:
        close = difflib.get_close_matches(name, list(tasks), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownTask(f"unknown task {name!r}{hint} (known tasks: {', '.join(tasks)}; see `harness tasks`)")
    return tasks[name]


def get_tasks(names: Sequence[str]) -> list[Task]:
    return [get_task(n) for n in names]
