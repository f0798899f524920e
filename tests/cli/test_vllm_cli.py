"""`harness run` on the vllm backend from the console script, for real on this CPU (slow; skipped
where vLLM is not installed). Its own module, so the backend tests' engine is shut down before this
one starts its own: one vLLM engine at a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.training.tiny import build_tiny_model
from vllm_util import cpu_env, models_file, needs_vllm


@pytest.mark.slow
@needs_vllm
def test_harness_run_cli_resumes_and_raises_k(tmp_path):
    """`harness run --model ALIAS` from the console script: the engine starts in a spawned process
    (no __main__ guard of ours needed), stdout is clean JSON, and the cache works as for any backend."""
    tiny_dir = build_tiny_model(tmp_path / "tiny")
    mfile = models_file(tmp_path / "models.toml", tiny_dir)
    exe = Path(sys.executable).with_name("harness")
    base = [str(exe), "run", "--model", "tiny", "--models", str(mfile), "--task", "arith", "--limit", "5",
            "--db", str(tmp_path / "r.duckdb"), "--json", "--no-progress"]

    def run(k: int) -> dict:
        p = subprocess.run(base + ["-k", str(k)], capture_output=True, text=True, env=cpu_env(), timeout=900)
        assert p.returncode == 0, p.stderr[-3000:]
        return json.loads(p.stdout)["tasks"][0]

    t = run(2)
    assert (t["generated"], t["reused"], t["n_items"]) == (10, 0, 5)
    t = run(4)
    assert (t["generated"], t["reused"]) == (10, 10)  # only samples 2 and 3 of each item
    t = run(4)
    assert (t["generated"], t["reused"]) == (0, 20)  # fully cached: the engine is never started
