"""The layering of the package, held by a test: imports only point down, and no two modules import
each other (directly or around a cycle), counting imports inside functions too.

    core (records, task, errors, models, data, vote)  <-  sandbox  <-  grading
    core  <-  backends, store
    core, grading  <-  tasks, synth
    ... <-  pipeline  <-  analysis  <-  cli, leaderboard
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# On disk the namespace's sub-packages live in the project's top-level folders.
FOLDERS = {"harness": "harness", "harness.tasks": "tasks", "harness.synth": "synth",
           "harness.leaderboard": "leaderboard"}

CORE = {"harness", "harness.records", "harness.task", "harness.errors", "harness.models", "harness.data",
        "harness.vote", "harness.items_io"}
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "sandbox": {"core", "sandbox"},
    "grading": {"core", "sandbox", "grading"},
    "backends": {"core", "backends"},
    "store": {"core", "store"},
    "tasks": {"core", "grading", "tasks"},
    "synth": {"core", "grading", "synth"},
    "pipeline": {"core", "grading", "backends", "store", "tasks", "pipeline"},
    "analysis": {"core", "grading", "store", "pipeline", "tasks", "analysis"},
    "leaderboard": {"core", "store", "analysis", "leaderboard"},
    # training reads files (curricula, SFT exports) and writes model folders; it never opens the store
    "training": {"core", "tasks", "training"},
    # the loop sequences evaluation, selection, synth augmentation and training: everything below cli
    "loop": {"core", "grading", "backends", "store", "tasks", "synth", "pipeline", "analysis", "training", "loop"},
    "cli": {"core", "sandbox", "grading", "backends", "store", "tasks", "synth", "pipeline", "analysis",
            "leaderboard", "training", "loop", "cli"},
}


def modules() -> dict[str, Path]:
    found = {}
    for pkg, folder in FOLDERS.items():
        base = ROOT / folder
        for path in base.rglob("*.py"):
            rel = path.relative_to(base).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            name = ".".join((pkg, *rel))
            if pkg == "harness" and len(rel) and rel[0] in ("tasks", "synth", "leaderboard"):
                continue
            found[name] = path
    return found


MODULES = modules()


def layer(mod: str) -> str:
    if mod == "harness.__main__":  # `python -m harness` is the command line
        return "cli"
    if mod in CORE:
        return "core"
    part = mod.split(".")[1]
    return part if part in ALLOWED else "core"


def imports(mod: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    package = mod if is_pkg else mod.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != mod:
                out.add(name)
    return out


GRAPH = {m: imports(m, p) for m, p in MODULES.items()}


def test_the_tree_was_found():
    assert {"harness.records", "harness.tasks.gsm8k", "harness.synth.variants", "harness.leaderboard.app",
            "harness.cli.app", "harness.pipeline.runner", "harness.store.schema"} <= set(MODULES)


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_imports_point_down(mod):
    mine = layer(mod)
    wrong = sorted(t for t in GRAPH[mod] if layer(t) not in ALLOWED[mine] and not _is_parent_package(t, mod))
    assert not wrong, f"{mod} ({mine}) imports upward or sideways: {wrong}"


def _is_parent_package(target: str, mod: str) -> bool:
    # `harness` itself (the version) is importable from anywhere.
    return target == "harness"


def test_no_import_cycles():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_a_cycle_is_seen(monkeypatch):
    """The checker itself: a planted two-module cycle is reported."""
    planted = {"a": {"b"}, "b": {"a"}}
    monkeypatch.setattr(f"{__name__}.GRAPH", planted)
    with pytest.raises(AssertionError, match="import cycles"):
        test_no_import_cycles()


SHARED_CLI = {"harness.cli", "harness.cli.common"}  # the package and the options every command shares


@pytest.mark.parametrize("mod", sorted(m for m in MODULES if layer(m) == "cli" and m.startswith("harness.cli.")
                                       and m not in SHARED_CLI | {"harness.cli.app"}))
def test_commands_never_import_each_other(mod):
    """A command module reads what it shares with another from a lower layer (or `cli.common`), never
    from that command; only `cli.app` (which registers them all) knows every command."""
    others = sorted(t for t in GRAPH[mod] if t.startswith("harness.cli") and t not in SHARED_CLI)
    assert not others, f"{mod} imports the command module(s) {others}"
