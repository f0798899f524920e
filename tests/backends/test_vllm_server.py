"""The openai backend against a real OpenAI-compatible server: vLLM's own, started on loopback with
the tiny random model (slow; skipped where vLLM is not installed). Chat and completions, `n`,
per-sample seeds on single requests, and a whole `harness run` with its cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.backends.openai import OpenAIBackend
from harness.models import ModelSpec
from harness.records import Message, Prompt, Request, Sampling, sample_seed
from harness.training.tiny import build_tiny_model
from vllm_util import needs_vllm, serve

pytestmark = [pytest.mark.slow, needs_vllm]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("vllm_server")
    model = build_tiny_model(root / "tiny")
    with serve(model, root / "server.log") as base:
        yield {"base": base, "model": str(model)}


def backend(server, **options) -> OpenAIBackend:
    return OpenAIBackend(ModelSpec(name="srv", backend="openai", model=server["model"], base_url=server["base"],
                                   options={"max_retries": 2, "timeout_s": 300, **options}))


def reqs() -> list[Request]:
    chat = Prompt(text="Question: 3 + 4?\nAnswer:", messages=(Message("user", "Question: 3 + 4?"),))
    plain = Prompt(text="Question: 12 - 5?\nAnswer:")
    return [Request(chat, (0, 1, 2, 3), tuple(sample_seed(0, chat.hash, i) for i in range(4))),
            Request(plain, (0, 1, 2), tuple(sample_seed(0, plain.hash, i) for i in range(3)))]


def test_chat_and_completions_with_n(server):
    b = backend(server)
    out = b.generate(reqs(), Sampling(max_tokens=16, temperature=1.0))
    assert [len(o) for o in out] == [4, 3]
    for comps in out:
        assert len({c.text for c in comps}) == len(comps), "k samples must be distinct draws"
    assert b.use_n  # the server took n: one request per prompt
    assert b.stats.requests == 2 and b.stats.completion_tokens > 0


def test_single_requests_with_per_sample_seeds_are_distinct_and_reproducible(server):
    params = Sampling(max_tokens=12, temperature=1.0)
    first = backend(server, use_n=False).generate(reqs(), params)
    again = backend(server, use_n=False).generate(reqs(), params)
    assert [[c.text for c in o] for o in first] == [[c.text for c in o] for o in again]
    assert all(len({c.text for c in o}) == len(o) for o in first)


def test_harness_run_against_the_server(server, tmp_path):
    exe = str(Path(sys.executable).with_name("harness"))
    args = [exe, "run", "--model", f"openai:{server['model']}@{server['base']}", "--task", "arith", "-k", "3",
            "--limit", "4", "--db", str(tmp_path / "r.duckdb"), "--json", "--no-progress", "--max-tokens", "16"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    t = json.loads(p.stdout)["tasks"][0]
    assert (t["generated"], t["reused"]) == (12, 0)
    p = subprocess.run(args, capture_output=True, text=True, timeout=900)
    t = json.loads(p.stdout)["tasks"][0]
    assert (t["generated"], t["reused"]) == (0, 12)
