"""One installed namespace: after `pip install -e .`, only `harness` is importable from outside the
checkout; the top-level folders come in as harness.tasks, harness.synth and harness.leaderboard."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _python(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["tasks", "synth", "leaderboard"])
def test_top_level_folders_are_not_packages_outside_the_checkout(tmp_path, name):
    r = _python(f"import {name}", tmp_path)
    assert r.returncode != 0 and "ModuleNotFoundError" in r.stderr


def test_the_namespace_has_them(tmp_path):
    r = _python("import harness.tasks, harness.synth, harness.leaderboard; "
                "from harness.tasks import registry; print(len(registry()))", tmp_path)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) >= 10
