"""`harness dpo`: preference training of a model folder on pairs (`harness export-dpo`); the result is a
model the backends load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import (AliasOpt, Bf16Opt, FinetunedFromOpt, JsonOpt, LoraOpt, MaxStepsOpt, ProgressOpt,
                                TrainSeedOpt, err, models_entry)


def dpo_command(
    model_dir: Annotated[Path, typer.Option("--model-dir", help="the model folder to train (weights, config, tokenizer); also the reference")],
    data: Annotated[Path, typer.Option("--data", help="preference pairs (`harness export-dpo --out FILE`)")],
    out_dir: Annotated[Path, typer.Option("--out", help="where the trained model folder goes")],
    epochs: Annotated[float, typer.Option(help="passes over the pairs")] = 3.0,
    max_steps: MaxStepsOpt = None,
    lr: Annotated[float, typer.Option("--lr", help="learning rate (1e-4 suits the demo's tiny models; 1e-7..5e-6 a real one)")] = 1e-4,
    beta: Annotated[float, typer.Option(help="DPO's beta: how far the model may move from the reference")] = 0.1,
    batch_size: Annotated[int, typer.Option(help="pairs per optimizer step")] = 8,
    lora_r: LoraOpt = None,
    bf16: Bf16Opt = False,
    seed: TrainSeedOpt = 0,
    alias: AliasOpt = None,
    finetuned_from: FinetunedFromOpt = None,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Preference training with TRL's DPOTrainer (LoRA optional) and a models-file entry for the result.

    Pairs at pivotal tokens differ in one token; they are trained as exactly that (no end of sequence
    appended). On a GPU: harness dpo --model-dir /models/phi-4-sft --data pairs.jsonl --out /models/phi-4-dpo
    --bf16 --lora-r 16 --lr 5e-6 --epochs 1.
    """
    from harness.training.dpo import DpoConfig, train_dpo

    config = DpoConfig(epochs=epochs, learning_rate=lr, batch_size=batch_size, max_steps=max_steps, lora_r=lora_r,
                       bf16=bf16, seed=seed, beta=beta)
    info = train_dpo(model_dir, data, out_dir, config, progress=progress and not as_json)
    entry = models_entry(alias or out_dir.name, out_dir, finetuned_from)
    if as_json:
        print(json.dumps({**info, "out": str(out_dir), "models_entry": entry}))
        return
    err.print(f"trained {info['steps']} steps on {info['examples']} pairs in {info['seconds']} s "
              f"(loss {info['first_loss']} -> {info['last_loss']}, reward margin {info['first_margin']} -> "
              f"{info['last_margin']}); model in {out_dir}", highlight=False)
    print(entry)


def register(app: typer.Typer) -> None:
    app.command("dpo")(dpo_command)
