"""A real `lm_eval` run for the lm-eval bridge tests: a local generate_until task (JSON data, fixed
few-shot examples, repeats, two filters) on the tiny random model through lm-eval's own `hf` model.

Nothing here imitates lm-eval's output: the tests read what `python -m lm_eval` itself wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.tasks.arith import make_items

TASK = "tiny_gsm"
REPEATS = 3
LIMIT = 4

TASK_YAML = """\
task: tiny_gsm
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_target: "{{{{answer.split('####')[-1].strip()}}}}"
target_delimiter: " "
fewshot_delimiter: "\\n\\n"
num_fewshot: 2
fewshot_config:
  sampler: first_n
  samples:
    - question: "Ana has 2 boxes with 3 pens in each box. How many pens?"
      answer: "2 * 3 = 6. The answer is 6.\\n#### 6"
    - question: "Ben has 4 coins and finds 5 more. How many coins?"
      answer: "4 + 5 = 9. The answer is 9.\\n#### 9"
repeats: {repeats}
generation_kwargs:
  until: ["Question:", "\\n\\n"]
  do_sample: true
  temperature: 1.0
  max_gen_toks: 16
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
filter_list:
  - name: first-number
    filter:
      - function: regex
        regex_pattern: "(-?[0-9]+)"
      - function: take_first
  - name: maj
    filter:
      - function: regex
        regex_pattern: "(-?[0-9]+)"
      - function: majority_vote
      - function: take_first
metadata:
  version: 1.0
"""


def offline_env(include: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if include is not None:
        env["HARNESS_LMEVAL_INCLUDE"] = str(include)
    return env


def write_task(root: Path) -> Path:
    """The task folder (YAML + its JSON data, single-digit answers so a random model sometimes hits)."""
    tasks = root / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    data = root / "data.jsonl"
    with data.open("w") as fh:
        for i, it in enumerate(make_items(8)):
            gold = i % 10
            fh.write(json.dumps({"question": it.fields["question"], "answer": f"So {gold}.\n#### {gold}"}) + "\n")
    (tasks / f"{TASK}.yaml").write_text(TASK_YAML.format(data=data, repeats=REPEATS))
    return tasks


def run_lm_eval(model_dir: Path, tasks: Path, out: Path) -> Path:
    """`python -m lm_eval` with --log_samples; returns the --output_path folder."""
    cmd = [sys.executable, "-m", "lm_eval", "--model", "hf",
           "--model_args", f"pretrained={model_dir},dtype=float32", "--tasks", TASK,
           "--include_path", str(tasks), "--output_path", str(out), "--log_samples",
           "--limit", str(LIMIT), "--device", "cpu", "--batch_size", "4"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=offline_env(), timeout=900)
    if p.returncode != 0:
        raise RuntimeError(f"lm_eval failed ({p.returncode}):\n{p.stderr[-4000:]}")
    return out
