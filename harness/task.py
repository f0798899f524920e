"""The Task record, its options, and the Grader protocol every task's grader follows.

The registry that finds the tasks (one module in `tasks/` per benchmark) is `harness.tasks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Literal, Mapping, Protocol, Sequence

from harness.data import Source
from harness.errors import HarnessError
from harness.records import Grade, Item, Prompt


class Grader(Protocol):
    """Grades every sample of a batch of items at once, so a grader can amortize work (a process
    pool, a sandbox pool) over the batch. Returns, per item, one Grade per response, in order; the
    `cls` fields group equivalent answers within an item for the majority vote.

    The run loop grades on a thread of its own while the engine generates; a grader that must run on
    the main thread (it uses signals) says so with a class attribute `main_thread = True`."""

    def grade(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[Grade]]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TaskOption:
    """An option a task declares (`--task-arg NAME=VALUE`); its loader takes it as a keyword argument."""

    name: str
    kind: type  # int | float | bool | str
    default: Any
    help: str = ""

    def parse(self, value: Any) -> Any:
        if isinstance(value, self.kind) and not (self.kind is int and isinstance(value, bool)):
            return value
        text = str(value).strip()
        if self.kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise HarnessError(f"task option {self.name}={value!r}: expected true or false")
        try:
            return self.kind(text)
        except (TypeError, ValueError):
            raise HarnessError(f"task option {self.name}={value!r} is not a valid {self.kind.__name__}") from None


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
    # Options the loader takes as keyword arguments, and the values bound by `configure`.
    options: tuple[TaskOption, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict)
    # The item's reference solution as the answer the prompt asks for (an SFT target where no model
    # solved the item, and the answer of a synthesized variant); None where the task has none.
    reference: Callable[[Item], str | None] | None = None

    def configure(self, values: Mapping[str, Any]) -> "Task":
        """This task with option values bound (validated and converted); unknown names are an error."""
        declared = {o.name: o for o in self.options}
        unknown = [n for n in values if n not in declared]
        if unknown:
            known = ", ".join(f"{o.name} ({o.kind.__name__}, default {o.default!r})" for o in self.options) or "none"
            raise HarnessError(f"task {self.name} has no option {unknown[0]!r}; its options: {known}")
        return replace(self, args={**self.args, **{n: declared[n].parse(v) for n, v in values.items()}})

    def takes(self, name: str) -> bool:
        return any(o.name == name for o in self.options)

    def load_items(self, source: Source) -> list[Item]:
        """The task's items under its bound options."""
        return self.load(source, **self.args)


@dataclass(frozen=True)
class Report:
    """A task-specific analysis of one graded run: `data` goes into JSON output, `text` to the terminal."""

    name: str
    data: Mapping[str, Any]
    text: str


def parse_task_args(pairs: Sequence[str]) -> dict[str, str]:
    """`["permutations=4", "shuffle=false"]` -> {"permutations": "4", "shuffle": "false"}."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name.strip():
            raise HarnessError(f"--task-arg {pair!r}: write NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def configure_tasks(tasks: Sequence[Task], args: Mapping[str, Any]) -> list[Task]:
    """Bind each option to every task that declares it; an option no task declares is an error."""
    for name in args:
        if not any(t.takes(name) for t in tasks):
            have = sorted({o.name for t in tasks for o in t.options})
            raise HarnessError(f"no task given takes option {name!r}"
                               + (f"; their options: {', '.join(have)}" if have else "; they take no options"))
    return [t.configure({n: v for n, v in args.items() if t.takes(n)}) for t in tasks]
