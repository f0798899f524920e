"""Preference training on pairs (`harness export-dpo`): TRL's `DPOTrainer`, LoRA optional.

The lines are TRL's preference format: `prompt`, `chosen`, `rejected`, plain text or conversational
turns. Pairs made at pivotal tokens differ in one token, so the tokens are the whole completion: TRL
would append an end-of-sequence token to a plain completion (and a chat template an end of turn),
teaching the model to stop after one token. Here each pair is tokenized as prompt -> completion with
nothing appended: the prompt as the backends send it (the chat template's generation prompt for a
chat model, then the line's `prefix`, the start of the answer both sides share), the completion the
token itself. Lines without a `prefix` (pairs from elsewhere) train on the whole completions as given.

The output folder holds the model and tokenizer (LoRA merged in), ready for the `hf` and `vllm`
backends, `dpo.json` with the recipe, the data's digest and the losses and reward margins, and
`lineage.json` as `harness sft` writes it (method dpo; the pairs' items, the base's own included).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from harness.errors import HarnessError
from harness.training.recipe import TrainConfig, load_model, lora, losses, quiet, quiet_data, save_trained, sha256, trainer_args
from harness.training.sft import lineage_of


@dataclass(frozen=True)
class DpoConfig(TrainConfig):
    """`harness dpo`'s recipe: the common fields (smaller steps and batches than SFT's), and beta."""

    learning_rate: float = 1e-4
    batch_size: int = 8
    beta: float = 0.1  # DPO's temperature: how far the policy may move from the reference


def _is_turns(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(m, dict) and isinstance(m.get("content"), str)
                                           and isinstance(m.get("role"), str) for m in value)


def read_pairs(path: Path) -> list[dict[str, Any]]:
    """The file's pairs, checked: a malformed line is named, never skipped."""
    if not path.is_file():
        raise HarnessError(f"no preference pairs at {path}: make them with `harness export-dpo --model M --out {path}`")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise HarnessError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not all(k in row for k in ("prompt", "chosen", "rejected")):
            raise HarnessError(f"{path}:{n}: expected `prompt`, `chosen` and `rejected`")
        plain = all(isinstance(row[k], str) for k in ("prompt", "chosen", "rejected"))
        turns = all(_is_turns(row[k]) and row[k] for k in ("prompt", "chosen", "rejected"))
        if not (plain or turns):
            raise HarnessError(f"{path}:{n}: `prompt`, `chosen` and `rejected` must be all text or all chat turns")
        if row["chosen"] == row["rejected"]:
            raise HarnessError(f"{path}:{n}: chosen and rejected are the same: nothing to prefer")
        rows.append(row)
    if not rows:
        raise HarnessError(f"{path} holds no pairs: nothing to train on")
    return rows


def tokenized(row: dict[str, Any], tok: Any, chat: bool) -> dict[str, list[int]]:
    """A pair as TRL's collator takes it: prompt ids, then each completion's ids, nothing appended."""
    if isinstance(row["prompt"], str):
        prompt, chosen, rejected = row["prompt"], row["chosen"], row["rejected"]
    else:
        if not chat:
            raise HarnessError("chat-turn pairs need a model whose tokenizer has a chat template")
        prefix = row.get("prefix") or ""
        c, r = row["chosen"][-1]["content"], row["rejected"][-1]["content"]
        if not (c.startswith(prefix) and r.startswith(prefix)):
            raise HarnessError("a pair's `prefix` must start both its chosen and its rejected answer")
        prompt = tok.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True) + prefix
        chosen, rejected = c[len(prefix):], r[len(prefix):]
        return _ids(tok, prompt, chosen, rejected, special=False)
    return _ids(tok, prompt, chosen, rejected, special=True)


def _ids(tok: Any, prompt: str, chosen: str, rejected: str, special: bool) -> dict[str, list[int]]:
    p = tok(prompt, add_special_tokens=special)["input_ids"]
    pc = tok(prompt + chosen, add_special_tokens=special)["input_ids"]
    pr = tok(prompt + rejected, add_special_tokens=special)["input_ids"]
    n = min(_common(p, pc), _common(p, pr))  # tokens that merge across the seam go to the completions
    return {"prompt_ids": p[:n], "chosen_ids": pc[n:], "rejected_ids": pr[n:]}


def _common(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def train_dpo(model_dir: Path, pairs: Path, out: Path, config: DpoConfig = DpoConfig(), *,
              progress: bool = True, threads: int | None = None) -> dict[str, Any]:
    """DPO on `pairs` from `model_dir` (also the reference) into `out` (written whole, then moved)."""
    from datasets import Dataset
    from trl import DPOConfig as TrlConfig, DPOTrainer

    rows = read_pairs(pairs)
    quiet_data(progress)
    tok, model = load_model(model_dir, bf16=config.bf16, seed=config.seed, threads=threads)
    chat = bool(getattr(tok, "chat_template", None))
    data = Dataset.from_list([tokenized(r, tok, chat) for r in rows])
    empty = sum(1 for d in data if not d["chosen_ids"] or not d["rejected_ids"])
    if empty:
        raise HarnessError(f"{empty} pairs have an empty completion once tokenized: nothing to compare")
    peft_config = lora(config.lora_r)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    args = TrlConfig(**trainer_args(config, tmp, progress=progress), beta=config.beta)

    class TokenizedDPO(DPOTrainer):
        """DPOTrainer on pairs already tokenized (above): its own preparation would append an EOS."""

        def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
            return dataset

    t0 = time.perf_counter()
    trainer = TokenizedDPO(model=model, args=args, train_dataset=data, processing_class=tok, peft_config=peft_config)
    quiet(trainer, progress, "dpo", len(rows))
    result = trainer.train()
    seconds = time.perf_counter() - t0
    steps = losses(trainer)
    margins = [h["rewards/margins"] for h in trainer.state.log_history if "rewards/margins" in h]
    info = {
        "base": str(model_dir), "pairs": str(pairs), "pairs_sha256": sha256(pairs), "examples": len(rows),
        "chat_template": chat, "steps": trainer.state.global_step,
        "train_loss": round(float(result.training_loss), 4), "first_loss": steps[0] if steps else None,
        "last_loss": steps[-1] if steps else None,
        "first_margin": margins[0] if margins else None, "last_margin": margins[-1] if margins else None,
        "seconds": round(seconds, 1), "config": asdict(config), "recipe": "dpo",
        "lineage": [json.loads(x) for x in sorted({json.dumps({k: r[k] for k in ("model", "task", "search_id")
                                                                  if k in r}, sort_keys=True) for r in rows})],
    }
    save_trained(trainer, tok, peft_config is not None, tmp, out, "dpo.json", info,
                 lineage_of(model_dir, "dpo", [pairs], rows, asdict(config), config.seed))
    return info
