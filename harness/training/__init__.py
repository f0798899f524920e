"""Training: the demo's base models from scratch (`base`), supervised fine-tuning on an SFT export
(`sft`, the `harness sft` command) and the tiny random-weight test model (`tiny`). Nothing here reads
the store: exports are files."""
