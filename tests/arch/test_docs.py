"""The docs stay true to the tree: every dotted module name (and `harness/...py` path) in a docstring
or the README resolves, and the README's Layout names every module of the package and nothing else."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NAME = re.compile(r"(?<![\w./-])harness(?:\.[A-Za-z_]\w*)+")
PATH = re.compile(r"(?<![\w./-])((?:[A-Za-z_]\w*/)+[A-Za-z_]\w*\.py)\b")


def _docstrings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    return [d for n in nodes if (d := ast.get_docstring(n, clean=False))]


def _texts() -> list[tuple[str, str]]:
    out = [(str(p.relative_to(ROOT)), d) for folder in ("harness", "tasks", "synth", "leaderboard")
           for p in sorted((ROOT / folder).rglob("*.py")) for d in _docstrings(p)]
    return out + [("README.md", README.read_text())]


def resolves(name: str) -> bool:
    """An importable module, or a module's attribute (imported only then: pages are scripts)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            continue
        obj = importlib.import_module(module) if i < len(parts) else None
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_the_resolver_sees_a_stale_name():
    assert resolves("harness.analysis.results.load_results") and resolves("harness.tasks.gsm8k")
    assert not resolves("harness.compare_render") and not resolves("harness.analysis.results.nothing")


def test_every_dotted_name_and_path_in_the_docs_resolves():
    stale = sorted({(where, m.group(0)) for where, text in _texts() for m in NAME.finditer(text)
                    if not resolves(m.group(0))})
    missing = sorted({(where, m.group(1)) for where, text in _texts() for m in PATH.finditer(text)
                      if not any((base / m.group(1)).exists() for base in (ROOT, ROOT / "harness"))})
    assert stale == [] and missing == []


def _layout() -> dict[str, set[str]]:
    """The README's Layout block, `harness/` part: folder ("" for the core) -> the modules and
    packages it lists (`name/` for a package); description lines are indented deeper."""
    block = README.read_text().split("## Layout", 1)[1].split("```", 2)[1]
    out: dict[str, set[str]] = {}
    for line in block.splitlines():
        m = re.fullmatch(r"  (\(core\)|[a-z_]+/)\s+(\S.*)", line)
        if m:
            folder = "" if m.group(1) == "(core)" else m.group(1).rstrip("/")
            out[folder] = {w.strip() for w in m.group(2).split(",")}
    return out


def _tree(folder: Path) -> set[str]:
    return ({p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "__main__")}
            | {f"{p.name}/" for p in folder.iterdir() if (p / "__init__.py").is_file()})


def test_the_readme_layout_matches_the_tree():
    layout = _layout()
    pkg = ROOT / "harness"
    assert layout[""] == {n for n in _tree(pkg) if not n.endswith("/")}, "the core modules"
    assert set(layout) - {""} == {n.rstrip("/") for n in _tree(pkg) if n.endswith("/")}, "the packages"
    for folder, names in layout.items():
        if folder:
            assert names == _tree(pkg / folder), f"harness/{folder}/"


@pytest.mark.parametrize("folder", ["tasks", "synth", "leaderboard", "tests", "benchmarks"])
def test_the_top_level_folders_in_the_layout_exist(folder):
    block = README.read_text().split("## Layout", 1)[1].split("```", 2)[1]
    assert f"\n{folder}/" in block and (ROOT / folder).is_dir()
