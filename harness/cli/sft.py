"""`harness sft`: fine-tune a model folder on an SFT export; the result is a model the backends load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from harness.cli.common import (AliasOpt, Bf16Opt, FinetunedFromOpt, JsonOpt, LoraOpt, MaxStepsOpt, ProgressOpt,
                                TrainSeedOpt, err, models_entry)


def sft_command(
    model_dir: Annotated[Path, typer.Option("--model-dir", help="the model folder to fine-tune (weights, config, tokenizer)")],
    data: Annotated[Path, typer.Option("--data", help="an SFT export (`harness export-sft --out FILE`)")],
    out_dir: Annotated[Path, typer.Option("--out", help="where the fine-tuned model folder goes")],
    epochs: Annotated[float, typer.Option(help="passes over the export")] = 3.0,
    max_steps: MaxStepsOpt = None,
    mix: Annotated[Optional[Path], typer.Option("--mix", help="general examples (same format) shuffled in beside the export, so the model keeps what it knows")] = None,
    lr: Annotated[float, typer.Option("--lr", help="learning rate (1e-3 suits the demo's tiny models; 1e-5..2e-4 a real one)")] = 1e-3,
    batch_size: Annotated[int, typer.Option(help="examples per optimizer step")] = 16,
    lora_r: LoraOpt = None,
    bf16: Bf16Opt = False,
    seed: TrainSeedOpt = 0,
    alias: AliasOpt = None,
    finetuned_from: FinetunedFromOpt = None,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Fine-tune with TRL's SFTTrainer (loss on the answers only; LoRA optional) and print a
    models-file entry for the result.

    On a GPU, with a real model: harness sft --model-dir /models/phi-4 --data queue.jsonl --out /models/phi-4-sft
    --bf16 --lora-r 16 --lr 1e-4 --epochs 2; then harness run --model phi-4-sft ... on held-out items.
    """
    from harness.training.sft import SftConfig, finetune

    config = SftConfig(epochs=epochs, learning_rate=lr, batch_size=batch_size, max_steps=max_steps,
                       lora_r=lora_r, bf16=bf16, seed=seed)
    info = finetune(model_dir, data, out_dir, config, mix=mix, progress=progress and not as_json)
    name = alias or out_dir.name
    entry = models_entry(name, out_dir, finetuned_from)
    if as_json:
        print(json.dumps({**info, "out": str(out_dir), "models_entry": entry}))
        return
    mixed = f" (+{info['mix_examples']} mixed in)" if info["mix_examples"] else ""
    err.print(f"trained {info['steps']} steps on {info['examples']} examples{mixed} in {info['seconds']} s "
              f"(loss {info['first_loss']} -> {info['last_loss']}); model in {out_dir}")
    print(entry)


def register(app: typer.Typer) -> None:
    app.command("sft")(sft_command)
