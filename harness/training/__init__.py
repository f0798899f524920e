"""Training: the demo's base models from scratch (`base`) and supervised fine-tuning on an SFT export
(`sft`, the `harness sft` command). Nothing here reads the store: exports are files."""
