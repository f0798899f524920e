"""`harness sft`: fine-tune a model folder on an SFT export; the result is a model the backends load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from harness.cli.common import JsonOpt, ProgressOpt, err


def sft_command(
    model_dir: Annotated[Path, typer.Option("--model-dir", help="the model folder to fine-tune (weights, config, tokenizer)")],
    data: Annotated[Path, typer.Option("--data", help="an SFT export (`harness export-sft --out FILE`)")],
    out_dir: Annotated[Path, typer.Option("--out", help="where the fine-tuned model folder goes")],
    epochs: Annotated[float, typer.Option(help="passes over the export")] = 3.0,
    max_steps: Annotated[Optional[int], typer.Option(help="a fixed number of optimizer steps instead of epochs")] = None,
    mix: Annotated[Optional[Path], typer.Option("--mix", help="general examples (same format) shuffled in beside the export, so the model keeps what it knows")] = None,
    lr: Annotated[float, typer.Option("--lr", help="learning rate (1e-3 suits the demo's tiny models; 1e-5..2e-4 a real one)")] = 1e-3,
    batch_size: Annotated[int, typer.Option(help="examples per optimizer step")] = 16,
    lora_r: Annotated[Optional[int], typer.Option(help="train LoRA adapters of this rank (merged into the output)")] = None,
    bf16: Annotated[bool, typer.Option("--bf16", help="train in bfloat16 (GPUs)")] = False,
    seed: Annotated[int, typer.Option(help="seed of the data order and initialisation")] = 0,
    alias: Annotated[Optional[str], typer.Option(help="models-file alias printed for the result (default: the folder name)")] = None,
    finetuned_from: Annotated[Optional[str], typer.Option(help="the base model's alias: its exported items are flagged in the new model's runs")] = None,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Fine-tune with TRL's SFTTrainer (loss on the answers only; LoRA optional) and print a
    models-file entry for the result.

    On a GPU, with a real model: harness sft --model-dir /models/phi-4 --data queue.jsonl --out /models/phi-4-sft
    --bf16 --lora-r 16 --lr 1e-4 --epochs 2; then harness run --model phi-4-sft ... on held-out items.
    """
    from harness.models import ModelSpec, to_toml
    from harness.training.sft import SftConfig, finetune

    config = SftConfig(epochs=epochs, learning_rate=lr, batch_size=batch_size, max_steps=max_steps,
                       lora_r=lora_r, bf16=bf16, seed=seed)
    info = finetune(model_dir, data, out_dir, config, mix=mix, progress=progress and not as_json)
    name = alias or out_dir.name
    entry = to_toml(ModelSpec(name=name, backend="hf", model=str(out_dir.resolve()), finetuned_from=finetuned_from))
    if as_json:
        print(json.dumps({**info, "out": str(out_dir), "models_entry": entry}))
        return
    mixed = f" (+{info['mix_examples']} mixed in)" if info["mix_examples"] else ""
    err.print(f"trained {info['steps']} steps on {info['examples']} examples{mixed} in {info['seconds']} s "
              f"(loss {info['first_loss']} -> {info['last_loss']}); model in {out_dir}")
    print(entry)


def register(app: typer.Typer) -> None:
    app.command("sft")(sft_command)
