"""Fine-tunes of a loop's arms side by side (a process and a torch thread each) through TRL on the
committed demo model: each lands in its own folder with its lineage, and a second call trains nothing."""

from __future__ import annotations

import json

import pytest

from harness.cli.demo import demo_model_dir
from harness.lineage import read_lineage
from harness.loop.config import Recipe
from harness.loop.engine import finetune_all
from harness.sft_example import SftExample

pytestmark = pytest.mark.slow


def test_two_fine_tunes_side_by_side_then_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_THREADS", "2")  # as on two free cores
    data = []
    for arm, items in (("a", ("1", "2")), ("b", ("3",))):
        path = tmp_path / f"{arm}.jsonl"
        path.write_text("".join(SftExample.of(f"Question: what is {i}+1?", f"Question: what is {i}+1?\nAnswer:",
                                              f" {i} + 1 = {int(i) + 1}. The answer is {int(i) + 1}.", task="arith",
                                              item_id=i, source="own").line() for i in items))
        data.append((path, items))
    recipe = Recipe(steps=2, batch_size=2)
    jobs = [(demo_model_dir("small"), path, tmp_path / "models" / f"m-{n}", n) for n, (path, _) in enumerate(data)]
    said: list[str] = []
    infos = finetune_all(jobs, recipe, False, said.append)
    assert [i["steps"] for i in infos] == [2, 2] and len(said) == 2  # one line per finished fine-tune
    for (_, _, dest, seed), (_, items) in zip(jobs, data):
        lineage = read_lineage(dest)
        assert lineage.seed == seed and {i for _, i in lineage.items} == set(items)
        assert json.loads((dest / "sft.json").read_text())["config"]["seed"] == seed
    again = finetune_all(jobs, recipe, False, said.append)
    assert all(i["reused"] and i["seconds"] == 0.0 for i in again) and len(said) == 2
