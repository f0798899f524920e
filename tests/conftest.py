"""Shared fixtures. Benchmark files are read from ../shared/data (or $HARNESS_DATA_DIR), never copied."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# vLLM on a CPU reserves KV cache up front; 1 GiB is plenty for the tiny test models.
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")


def shared_data_dir() -> Path | None:
    env = os.environ.get("HARNESS_DATA_DIR")
    cand = Path(env) if env else REPO.parent / "shared" / "data"
    return cand if cand.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real benchmark files; tests that need it skip, saying why, when it is absent."""
    d = shared_data_dir()
    if d is None:
        pytest.skip("real benchmark files not found: set HARNESS_DATA_DIR or put them in ../shared/data")
    return d


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random-weight Llama (byte-level BPE trained here, chat template, head_dim 64)."""
    from harness.training.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(autouse=True)
def _no_files_in_the_checkout(tmp_path, monkeypatch):
    """Every test runs in its own empty folder, so a command's default `./harness.duckdb` (or any
    other relative output) lands there, never in the checkout."""
    monkeypatch.chdir(tmp_path)
