"""What every TRL fine-tuning here shares (`harness sft`, `harness dpo`): loading the model to train,
LoRA, the trainer arguments, a quiet progress bar, and writing the result: a model folder the backends
load (LoRA merged in, the KV cache back on, a portable tokenizer) with its lineage beside it, written
whole and then moved into place."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.errors import HarnessError
from harness.lineage import Lineage, write_lineage
from harness.training.tiny import save_tokenizer


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_model(model_dir: Path, *, bf16: bool, seed: int, threads: int | None = None) -> tuple[Any, Any]:
    """The tokenizer and model of a model folder, seeded, in float32 (bfloat16 on request); on a CPU,
    torch's threads set on purpose (`harness.cpu`)."""
    os.environ.setdefault("WANDB_DISABLED", "true")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (model_dir / "config.json").is_file():
        raise HarnessError(f"{model_dir} is not a model folder (no config.json)")
    if not torch.cuda.is_available():
        from harness.cpu import set_torch_threads

        set_torch_threads(threads)
    tok = AutoTokenizer.from_pretrained(model_dir)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16 if bf16 else torch.float32)
    return tok, model


@dataclass(frozen=True)
class TrainConfig:
    """The fields every recipe (`harness sft`, `harness dpo`) has and `trainer_args` reads."""

    epochs: float = 3.0
    learning_rate: float = 1e-3
    batch_size: int = 16
    max_steps: int | None = None  # a fixed budget of optimizer steps (overrides epochs)
    lora_r: int | None = None  # LoRA rank; None trains every weight
    bf16: bool = False
    seed: int = 0
    max_length: int = 512
    warmup: float = 0.1  # linear warm-up: a share of the steps (< 1) or a number of steps


def lora(rank: int | None) -> Any:
    """A LoRA configuration over every linear layer (None: train every weight)."""
    if not rank:
        return None
    try:
        from peft import LoraConfig
    except ImportError:
        raise HarnessError(f"--lora-r {rank} needs peft, which is not installed: pip install -e '.[lora]' "
                           "(or leave --lora-r out to train every weight)") from None

    return LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")


def trainer_args(config: TrainConfig, tmp: Path, *, progress: bool) -> dict[str, Any]:
    """The TRL config fields every recipe sets the same way, from its `TrainConfig` fields."""
    import torch

    return dict(
        output_dir=str(tmp / "trainer"), num_train_epochs=config.epochs, max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size, learning_rate=config.learning_rate,
        lr_scheduler_type="cosine", warmup_steps=config.warmup, weight_decay=0.0, bf16=config.bf16, seed=config.seed,
        data_seed=config.seed, max_length=config.max_length, logging_steps=1, save_strategy="no",
        report_to="none", disable_tqdm=not bars(progress), use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
    )


def bars(progress: bool) -> bool:
    """Progress bars redraw in place on a terminal; written to a file they are one endless line each,
    so there a line when training starts and one when it ends stand in for them (`quiet`)."""
    return progress and sys.stderr.isatty()


def quiet_data(progress: bool) -> None:
    """No progress bars from `datasets` (its map and filter passes) and transformers (loading, saving)
    unless bars are wanted (`bars`); call before the model is loaded."""
    if not bars(progress):
        import datasets
        from transformers.utils import logging as hf_logging

        datasets.disable_progress_bars()
        hf_logging.disable_progress_bar()


def quiet(trainer: Any, progress: bool, label: str, n_examples: int) -> None:
    """Losses go to the recipe file, not to the terminal: the printer and the progress bar both echo
    every logged step (logging_steps=1); on a terminal the bar stays and its echo goes, elsewhere
    (`progress` still wanted) `label: training N steps ...` and `label: trained ...` lines."""
    import time

    from transformers.trainer_callback import PrinterCallback, ProgressCallback, TrainerCallback

    trainer.remove_callback(PrinterCallback)
    if bars(progress):
        class QuietProgress(ProgressCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):  # the bar, without a line per step
                return None

        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(QuietProgress())
    elif progress:
        t0 = time.perf_counter()

        class StageLines(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                print(f"{label}: training {state.max_steps} steps on {n_examples} examples", file=sys.stderr, flush=True)

            def on_train_end(self, args, state, control, **kwargs):
                seen = [h["loss"] for h in state.log_history if "loss" in h]
                loss = f", loss {seen[0]:.3f} -> {seen[-1]:.3f}" if seen else ""
                print(f"{label}: trained {state.global_step} steps in {time.perf_counter() - t0:.1f} s{loss}",
                      file=sys.stderr, flush=True)

        trainer.add_callback(StageLines())


def losses(trainer: Any) -> list[float]:
    return [h["loss"] for h in trainer.state.log_history if "loss" in h]


def save_trained(trainer: Any, tok: Any, merged_lora: bool, tmp: Path, out: Path, info_name: str,
                 info: Mapping[str, Any], lineage: Lineage) -> None:
    """The trained model (LoRA adapters merged) and tokenizer into `tmp`, `info` (recipe, losses) as
    `info_name` and the lineage (`harness.lineage`) beside them, then `tmp` moved to `out`
    (replacing what was there)."""
    trained = trainer.model
    if merged_lora:
        trained = trained.merge_and_unload()
    trained.config.use_cache = True  # the trainer turns the KV cache off for training; generation wants it
    trained.save_pretrained(tmp)
    save_tokenizer(tok, tmp)
    (tmp / info_name).write_text(json.dumps(dict(info), indent=1) + "\n")
    write_lineage(tmp, lineage)
    shutil.rmtree(tmp / "trainer", ignore_errors=True)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
