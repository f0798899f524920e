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
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from harness.errors import HarnessError
from harness.lineage import Lineage, read_lineage, trained_items, write_lineage
from harness.sft_example import SftExample, read_examples
from harness.training.tiny import save_tokenizer


@dataclass(frozen=True)
class SftConfig:
    epochs: float = 3.0
    learning_rate: float = 1e-3
    batch_size: int = 16
    max_steps: int | None = None  # a fixed budget of optimizer steps (overrides epochs)
    lora_r: int | None = None  # LoRA rank; None trains every weight
    bf16: bool = False
    seed: int = 0
    max_length: int = 512
    warmup: float = 0.1  # linear warm-up: a share of the steps (< 1) or a number of steps


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
    os.environ.setdefault("WANDB_DISABLED", "true")
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig as TrlConfig, SFTTrainer

    rows = read_export(export)
    mixed = read_export(mix) if mix is not None else []
    if not (model_dir / "config.json").is_file():
        raise HarnessError(f"{model_dir} is not a model folder (no config.json)")
    if not torch.cuda.is_available():
        from harness.cpu import set_torch_threads

        set_torch_threads(threads)
    tok = AutoTokenizer.from_pretrained(model_dir)
    chat = bool(getattr(tok, "chat_template", None))
    data = Dataset.from_list(examples(rows + mixed, chat))
    torch.manual_seed(config.seed)
    dtype = torch.bfloat16 if config.bf16 else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    peft_config = None
    if config.lora_r:
        from peft import LoraConfig

        peft_config = LoraConfig(r=config.lora_r, lora_alpha=2 * config.lora_r, lora_dropout=0.0,
                                 target_modules="all-linear", task_type="CAUSAL_LM")
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    # Bars redraw in place on a terminal; written to a file they are one endless line each. There a
    # line when training starts and one when it ends stand in for them.
    bars = progress and sys.stderr.isatty()
    args = TrlConfig(
        output_dir=str(tmp / "trainer"), num_train_epochs=config.epochs, max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size, learning_rate=config.learning_rate,
        lr_scheduler_type="cosine", warmup_steps=config.warmup, weight_decay=0.0, bf16=config.bf16, seed=config.seed,
        data_seed=config.seed, max_length=config.max_length, logging_steps=1, save_strategy="no",
        report_to="none", disable_tqdm=not bars, use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
    )
    t0 = time.perf_counter()
    if not bars:
        import datasets

        datasets.disable_progress_bars()
    trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tok, peft_config=peft_config)
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    # losses go to sft.json, not to the terminal: the printer and the progress bar both echo every
    # logged step (logging_steps=1); the bar stays, its echo goes
    trainer.remove_callback(PrinterCallback)
    if bars:
        class QuietProgress(ProgressCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):  # the bar, without a line per step
                return None

        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(QuietProgress())
    elif progress:
        from transformers.trainer_callback import TrainerCallback

        class StageLines(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                print(f"sft: training {state.max_steps} steps on {len(data)} examples", file=sys.stderr, flush=True)

            def on_train_end(self, args, state, control, **kwargs):
                losses = [h["loss"] for h in state.log_history if "loss" in h]
                loss = f", loss {losses[0]:.3f} -> {losses[-1]:.3f}" if losses else ""
                print(f"sft: trained {state.global_step} steps in {time.perf_counter() - t0:.1f} s{loss}",
                      file=sys.stderr, flush=True)

        trainer.add_callback(StageLines())
    result = trainer.train()
    seconds = time.perf_counter() - t0
    trained = trainer.model
    if peft_config is not None:
        trained = trained.merge_and_unload()
    trained.config.use_cache = True  # the trainer turns the KV cache off for training; generation wants it
    trained.save_pretrained(tmp)
    save_tokenizer(tok, tmp)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    info = {
        "base": str(model_dir), "export": str(export), "export_sha256": hashlib.sha256(export.read_bytes()).hexdigest(),
        "examples": len(rows), "mix": str(mix) if mix is not None else None,
        "mix_sha256": hashlib.sha256(mix.read_bytes()).hexdigest() if mix is not None else None,
        "mix_examples": len(mixed), "chat_template": chat, "steps": trainer.state.global_step,
        "train_loss": round(float(result.training_loss), 4), "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None, "seconds": round(seconds, 1), "config": asdict(config),
    }
    (tmp / "sft.json").write_text(json.dumps(info, indent=1) + "\n")
    write_lineage(tmp, lineage_of(model_dir, "sft", [export] + ([mix] if mix is not None else []), rows + mixed,
                                  asdict(config), config.seed))
    import shutil

    shutil.rmtree(tmp / "trainer", ignore_errors=True)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return info
