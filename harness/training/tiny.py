"""A tiny random-weight Llama with a locally trained byte-level BPE tokenizer and a chat template.

It is a real model for the loading, templating and batching paths (tests, the README's demo) and
needs no download. Its weights are random: whatever it scores means nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{{ eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIALS = ["<|pad|>", "<|bos|>", "<|eos|>", "<|system|>", "<|user|>", "<|assistant|>"]
_CORPUS = [
    "Solve the following math word problem. Think step by step, then give the final answer.",
    "The answer is 42. Question: Answer: step by step, so the total is 7 + 5 = 12 apples.",
    "Tom has 3 boxes with 12 pens each. He gives away 5 pens. How many pens are left? 36 - 5 = 31.",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))",
    "Which of the following is correct? A) water B) salt C) iron D) gold. Answer: C",
    "0 1 2 3 4 5 6 7 8 9 10 100 1000 #### = + - * / ( ) \\boxed{ } $ % . , ? !",
]


def save_tokenizer(tok, dest: Path) -> None:
    """`tok.save_pretrained(dest)`, loadable by transformers 4 (and vLLM's pin) as well as 5: 5 records
    its own backend class, which 4.x cannot load, so the portable class is named, and the chat
    template (when there is one) is written into the config, where 4.x looks for it."""
    tok.save_pretrained(dest)
    cfg_path = Path(dest) / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg.pop("extra_special_tokens", None)
    if getattr(tok, "chat_template", None):
        cfg["chat_template"] = tok.chat_template
    cfg_path.write_text(json.dumps(cfg, indent=1))


def default_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "harness" / "tiny-llama-v1"


def build_tiny_model(dest: str | Path | None = None, *, seed: int = 0, vocab_size: int = 512,
                     hidden_size: int = 128, layers: int = 2, heads: int = 2) -> Path:
    """Write the model to `dest` (default: the user cache) unless it is already there; return it.
    head_dim = hidden_size / heads = 64 by default (vLLM's CPU attention refuses 16)."""
    dest = Path(dest) if dest is not None else default_dir()
    if (dest / "config.json").is_file() and (dest / "tokenizer.json").is_file():
        return dest
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|bos|>", eos_token="<|eos|>",
                                  pad_token="<|pad|>")
    tok.chat_template = CHAT_TEMPLATE
    save_tokenizer(tok, tmp)

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
        head_dim=hidden_size // heads, max_position_embeddings=2048,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(tmp)
    if dest.exists():  # another process finished first
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
        return dest
    tmp.rename(dest)
    return dest
