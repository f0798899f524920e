"""The loop's TOML config: every example parses; bad input is named, never guessed."""

from __future__ import annotations

from importlib import resources

import pytest

from harness.errors import HarnessError
from harness.loop.config import LoopConfig, Phase, load_config, parse

BASE = {"name": "r1", "student": "hf:/m", "task": "wordmath", "test_size": 50}


@pytest.mark.parametrize("example", ["loop.example.toml", "loop.gpu.example.toml", "loop.smollm2.example.toml"])
def test_every_example_parses(example, tmp_path):
    text = resources.files("harness").joinpath(example).read_text()
    path = tmp_path / "loop.toml"
    path.write_text(text)
    cfg = load_config(path)
    # the SmolLM2 example is what fitted 40 minutes of a shared 2-core machine: 2 seeds
    assert isinstance(cfg, LoopConfig) and cfg.phases and "teachable" in cfg.arms
    assert len(cfg.seeds) >= (2 if "smollm2" in example else 3)
    assert cfg.out.is_absolute()  # relative to the file's folder


def test_flat_file_is_one_phase_and_paths_are_relative_to_the_file(tmp_path):
    cfg = parse({**BASE, "task_args": {"n": 100}, "recipe": {"mix": "mix.jsonl", "steps": 5}}, base=tmp_path)
    assert cfg.phases == (Phase(task="wordmath", task_args={"n": 100}, test_size=50),)
    assert cfg.recipe.mix == tmp_path / "mix.jsonl" and cfg.recipe.steps == 5
    assert cfg.seeds == (0, 1, 2) and cfg.arms == ("teachable", "random")


def test_selection_size_is_read_and_unset_keeps_the_loop_id():
    assert parse({**BASE, "selection_size": 30}).phases[0].selection_size == 30
    assert "selection_size" not in parse(BASE).to_json()["phases"][0]
    assert parse({**BASE, "selection_size": 30}).to_json()["phases"][0]["selection_size"] == 30


def test_dpo_arms_are_read_and_unset_keeps_the_loop_id():
    from harness.loop.config import DpoArms

    assert parse(BASE).dpo is None and "dpo" not in parse(BASE).to_json()
    cfg = parse({**BASE, "dpo": {"arms": ["pivotal"], "rollouts": 8, "steps": 5, "beta": 0.2, "band": [0.1, 0.9]}})
    assert cfg.dpo == DpoArms(arms=("pivotal",), rollouts=8, steps=5, beta=0.2, band=(0.1, 0.9))
    assert cfg.to_json()["dpo"]["rollouts"] == 8 and parse({**BASE, "dpo": {}}).dpo == DpoArms()


def test_phases_as_tables():
    cfg = parse({"name": "x", "student": "s", "phases": [
        {"task": "gsm8k", "test_size": 10}, {"selection_task": "gsm8k", "test_task": "gsm8k_variants"}]})
    assert [p.label for p in cfg.phases] == ["gsm8k", "gsm8k->gsm8k_variants"]


BAD = [
    ({**BASE, "arm": ["teachable"]}, "unknown key"),
    ({**BASE, "arms": ["teachable", "clever"]}, "arms are distinct names"),
    ({**BASE, "arms": ["random", "random"]}, "arms are distinct names"),
    ({**BASE, "seeds": [0, 0]}, "seeds are distinct"),
    ({**BASE, "seeds": []}, "seeds are distinct"),
    ({**BASE, "band": [0.8, 0.2]}, "band is"),
    ({**BASE, "k": 0}, "k must be"),
    ({**BASE, "k": True}, "k must be int"),
    ({**BASE, "size": -3}, "size must be"),
    ({k: v for k, v in BASE.items() if k != "test_size"}, "test_size"),
    ({k: v for k, v in BASE.items() if k != "student"}, "`student` is required"),
    ({**BASE, "name": "my loop"}, "no spaces"),
    ({**BASE, "selection_task": "gsm8k"}, "either `task`"),
    ({"name": "x", "student": "s", "selection_task": "gsm8k"}, "go together"),
    ({**BASE, "phases": [{"task": "gsm8k", "test_size": 3}]}, "inside \\[\\[phases\\]\\]"),
    ({**BASE, "recipe": {"stepz": 3}}, "unknown key"),
    ({**BASE, "augment": -1}, "augment is"),
    ({**BASE, "selection_size": 0}, "selection_size is"),
    ({"name": "x", "student": "s", "selection_task": "a", "test_task": "b", "selection_size": 5}, "selection_size is"),
    ({**BASE, "dpo": {"arms": ["pivotal", "clever"]}}, "arms are distinct names among pivotal"),
    ({**BASE, "dpo": {"rolouts": 8}}, "unknown key"),
    ({**BASE, "dpo": {"steps": 0}}, "steps must be a positive integer"),
    ({**BASE, "dpo": {"p_gap": 0}}, "p_gap must be"),
    ({**BASE, "dpo": {"band": [0.9, 0.1]}}, "band is"),
    ({**BASE, "arms": ["random"], "dpo": {}}, "start from the teachable arm"),
]


@pytest.mark.parametrize("table,message", BAD)
def test_bad_configs_are_named(table, message):
    with pytest.raises(HarnessError, match=message):
        parse(table)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(HarnessError, match="no loop config"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(HarnessError, match="not valid TOML"):
        load_config(bad)


BAD_RUNS = [
    ({"student": "hf:/no/such/model"}, "no such folder"),
    ({"student": "openai:m@http://127.0.0.1:9/v1"}, "must be a local model folder"),
    ({"task": "no_such_task"}, "no_such_task"),
    ({"test_size": 5000}, "must leave items"),
    ({"recipe": {"mix": "missing.jsonl"}}, "does not exist"),
]


@pytest.mark.parametrize("change,message", BAD_RUNS)
def test_a_loop_that_cannot_run_leaves_nothing_behind(change, message, tmp_path):
    from harness.cli.demo import demo_model_dir
    from harness.loop.engine import run_loop

    table = {**BASE, "student": f"hf:{demo_model_dir('small')}", "out": "out", **change}
    cfg = parse(table, base=tmp_path)
    with pytest.raises(HarnessError, match=message):
        run_loop(cfg, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_models_file_in_out_that_does_not_parse_stops_the_loop_before_it_writes(tmp_path):
    """The loop adds its models to out/models.toml, keeping what is there: a file it cannot read is
    refused before a store or an export is made, not overwritten at the end."""
    from harness.cli.demo import demo_model_dir
    from harness.loop.engine import run_loop

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "models.toml").write_text("[models.x\n")
    cfg = parse({**BASE, "student": f"hf:{demo_model_dir('small')}", "out": "out"}, base=tmp_path)
    with pytest.raises(HarnessError, match="models.toml"):
        run_loop(cfg, progress=False)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["models.toml"]
    assert (tmp_path / "out" / "models.toml").read_text() == "[models.x\n"


def test_the_demo_example_is_the_loop_harness_demo_runs(tmp_path):
    """loop.example.toml says it is the loop `harness demo` runs: its numbers are the demo's defaults."""
    import inspect

    from harness.cli.demo import demo

    path = tmp_path / "loop.toml"
    path.write_text(resources.files("harness").joinpath("loop.example.toml").read_text())
    cfg = load_config(path)
    d = {name: p.default for name, p in inspect.signature(demo).parameters.items()}
    (phase,) = cfg.phases
    assert (phase.task_args["n"], phase.test_size, phase.augment, phase.split_seed) == (
        d["pool"], d["test_items"], d["augment"], d["seed"])
    assert (cfg.recipe.steps, cfg.recipe.learning_rate, cfg.k, len(cfg.seeds)) == (
        d["sft_steps"], d["sft_lr"], d["k"], d["seeds"])
    assert cfg.arms == ("teachable", "random") and cfg.recipe.batch_size == 16
    assert cfg.recipe.anchors is d["anchors"] is True
