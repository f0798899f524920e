"""One declaration per backend (`harness.backend_kinds`): the registry the models file, the loader and
the identity step all read, and the one thinking-budget check."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from harness.backend_kinds import KINDS
from harness.errors import BackendError, HarnessError
from harness.models import ModelSpec, load_models

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_kind_names_its_class_and_server_question(name):
    kind = KINDS[name]
    module, _, cls = kind.target.partition(":")
    assert getattr(importlib.import_module(module), cls).name == name
    if kind.reports_identity is not None:
        module, _, fn = kind.reports_identity.partition(":")
        assert callable(getattr(importlib.import_module(module), fn))


def test_nothing_else_branches_on_backend_names():
    branch = re.compile(r"backend\s*(==|!=|in \(|not in \()")
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / "harness").rglob("*.py"))
                 for i, line in enumerate(p.read_text().splitlines(), 1) if branch.search(line)]
    assert offenders == []


@pytest.mark.parametrize("backend, options, ok", [
    ("vllm", "tensor_parallel_size = 2", True),
    ("vllm", "tensor_paralel_size = 2", False),
    ("hf", "batch_size = 4", True),
    ("hf", "max_concurrency = 4", False),
])
def test_the_models_file_takes_the_options_a_kind_declares(tmp_path, backend, options, ok):
    path = tmp_path / "models.toml"
    path.write_text(f'[models.m]\nbackend = "{backend}"\nmodel = "x"\n[models.m.options]\n{options}\n')
    if ok:
        assert load_models(path)["m"].backend == backend
    else:
        with pytest.raises(HarnessError, match=f"unknown {backend} option"):
            load_models(path)


def test_the_thinking_budget_is_checked_once_for_every_backend():
    for name, kind in KINDS.items():
        spec = ModelSpec("m", name, "x", base_url="http://h/v1", thinking={"budget": 8})
        if kind.forces_budget:
            assert spec.forced_budget() == 8
            with pytest.raises(BackendError, match="closing tag"):
                ModelSpec("m", name, "x", thinking={"budget": 8, "open": "", "close": ""}).forced_budget()
        else:
            with pytest.raises(BackendError, match="does not force a thinking budget"):
                spec.forced_budget()
    assert ModelSpec("m", "vllm", "x").forced_budget() is None
