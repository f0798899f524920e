"""Supervised fine-tuning on an SFT export (`harness export-sft`): TRL's `SFTTrainer`, LoRA optional.

This is the template for the same step with a real model on a GPU: the recipe is TRL's (prompt ->
completion examples, loss on the completion only, the tokenizer's chat template when it has one),
and the knobs a GPU run turns are options (`bf16`, `lora_r`, batch size, learning rate, epochs).
On the CPU it trains float32. The output folder holds the model and tokenizer (LoRA adapters merged
in), ready for the `hf` and `vllm` backends, and `sft.json` with the recipe, the data's digest and
the losses.

Export lines (`harness.sft_example`) hold `messages` (the prompt's turns, then the assistant's answer)
and `prompt_text` (the prompt as a plain-text model sees it). A tokenizer with a chat template trains on the conversation;
one without trains on `prompt_text` -> the answer text, exactly what the backends send such a model.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from harness.errors import HarnessError
from harness.lineage import Lineage, read_lineage, trained_items
from harness.sft_example import SftExample, read_examples
from harness.training.recipe import TrainConfig, load_model, lora, losses, quiet, quiet_data, save_trained, sha256, trainer_args


@dataclass(frozen=True)
class SftConfig(TrainConfig):
    """`harness sft`'s recipe: the common fields at their SFT defaults."""


def read_export(path: Path) -> list[SftExample]:
    """The examples of an export (`harness.sft_example`), checked: a malformed line is named, never skipped."""
    rows = read_examples(path)
    if not rows:
        raise HarnessError(f"{path} holds no examples: nothing to train on")
    return rows


def examples(rows: Sequence[SftExample], chat: bool) -> list[dict[str, Any]]:
    """TRL's prompt-completion format, conversational when the tokenizer has a chat template."""
    out: list[dict[str, Any]] = []
    for row in rows:
        msgs = [dict(m) for m in row.messages]
        if chat:
            out.append({"prompt": msgs[:-1], "completion": msgs[-1:]})
        else:
            prompt = row.prompt_text if row.prompt_text is not None else "\n\n".join(m["content"] for m in msgs[:-1])
            out.append({"prompt": prompt, "completion": msgs[-1]["content"]})
    return out


def lineage_of(base: Path, method: str, files: Sequence[Path], rows: Sequence[Any],
               recipe: dict[str, Any], seed: int | None) -> Lineage:
    """The lineage of a model trained from `base` on `rows` (read from `files`): the items the rows
    name, and every item the base's own weights saw."""
    from harness.models import ModelSpec

    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    inherited = read_lineage(base)
    items = trained_items(rows) | set(inherited.items if inherited else ())
    return Lineage(base=str(Path(base).resolve()), method=method, data_sha256=h.hexdigest(), recipe=recipe, seed=seed,
                   items=tuple(sorted(items)),
                   base_model_id=ModelSpec(name="base", backend="hf", model=str(base)).fingerprint())


def finetune(model_dir: Path, export: Path, out: Path, config: SftConfig = SftConfig(), *,
             mix: Path | None = None, progress: bool = True, threads: int | None = None) -> dict[str, Any]:
    """Fine-tune `model_dir` on `export` into `out` (written whole, then moved into place).

    `mix`: general examples (the same line format) shuffled in beside the export: rehearsal of what
    the model already knows, so that learning the export does not overwrite it (catastrophic
    forgetting is the usual cost of fine-tuning on a few hundred narrow examples)."""
    from datasets import Dataset
    from trl import SFTConfig as TrlConfig, SFTTrainer

    rows = read_export(export)
    mixed = read_export(mix) if mix is not None else []
    quiet_data(progress)
    tok, model = load_model(model_dir, bf16=config.bf16, seed=config.seed, threads=threads)
    chat = bool(getattr(tok, "chat_template", None))
    data = Dataset.from_list(examples(rows + mixed, chat))
    peft_config = lora(config.lora_r)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    args = TrlConfig(**trainer_args(config, tmp, progress=progress))
    t0 = time.perf_counter()
    trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tok, peft_config=peft_config)
    quiet(trainer, progress, "sft", len(data))
    result = trainer.train()
    seconds = time.perf_counter() - t0
    steps = losses(trainer)
    info = {
        "base": str(model_dir), "export": str(export), "export_sha256": sha256(export),
        "examples": len(rows), "mix": str(mix) if mix is not None else None,
        "mix_sha256": sha256(mix) if mix is not None else None,
        "mix_examples": len(mixed), "chat_template": chat, "steps": trainer.state.global_step,
        "train_loss": round(float(result.training_loss), 4), "first_loss": steps[0] if steps else None,
        "last_loss": steps[-1] if steps else None, "seconds": round(seconds, 1), "config": asdict(config),
    }
    save_trained(trainer, tok, peft_config is not None, tmp, out, "sft.json", info,
                 lineage_of(model_dir, "sft", [export] + ([mix] if mix is not None else []), rows + mixed,
                            asdict(config), config.seed))
    return info
