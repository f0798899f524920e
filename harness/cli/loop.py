"""`harness loop --config loop.toml`: the data-first loop as a command, measured against a random arm
on a test pool that no arm chose (see `harness.loop.engine`)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from harness.cli.common import JsonOpt, ProgressOpt, err, out

EXAMPLES = {"demo": "loop.example.toml", "gpu": "loop.gpu.example.toml", "smollm2": "loop.smollm2.example.toml"}


def _pts(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}" if x < 0 or x > 0 else "0.0"


def _p(v: float) -> str:
    return f"{v:.2g}" if v >= 1e-3 else f"{v:.1e}"


def story(result: dict[str, Any]) -> list[str]:
    """The loop's result in sentences: per phase and test pool, each arm against the base and
    teachable against random, pooled over the seeds."""
    lines = []
    for ph in result["phases"]:
        sel = ph["selection"]
        lines.append(f"Phase {ph['phase']} ({ph['label']}): selection pool of {sel['items']} {sel['task']} items, "
                     f"{sel['teachable'] if sel['teachable'] is not None else 'n/a'} teachable; "
                     f"no training file names or asks any of the {ph['checked_test_items']} test items.")
        for t in ph["test_pools"]:
            lines.append(f"  Test pool: {t['items']} {t['task']} items no arm chose; base {result['student']} "
                         f"{100 * t['base']:.1f} maj@{result['k']}.")
            for g in (p for p in ph["pooled"] if p["task"] == t["task"]):
                spread = f", spread {100 * g['spread']:.1f}" if g.get("spread") is not None else ""
                lines.append(f"  {g['arm']:>10}: {100 * g['after']:.1f} over {g['seeds']} seed(s){spread}: "
                             f"{_pts(g['diff'])} points vs base, 95% CI [{_pts(g['ci_low'])}, {_pts(g['ci_high'])}], "
                             f"p = {_p(g['p_value'])}")
            v = ph["teachable_vs_random"].get(t["task"])
            if v is not None:
                won = v["ci_low"] > 0
                verdict = ("teachable beat random" if won else "teachable did not beat random with confidence"
                           if v["diff"] > 0 else "teachable did not beat random")
                lines.append(_versus_line(verdict, v))
            lines += _dpo_story(ph, t["task"])
    lines.append(f"{result['generated']} samples generated, {result['reused']} reused; {result['seconds']:.0f} s. "
                 f"Store: {result['store']}; models: {result['models_file']}.")
    return lines


def _versus_line(label: str, v: dict[str, Any]) -> str:
    """One arm against another, pooled over the seeds, with the per-seed differences."""
    return (f"  => {label}: {_pts(v['diff'])} points, 95% CI [{_pts(v['ci_low'])}, {_pts(v['ci_high'])}], "
            f"p = {_p(v['p_value'])}, pooled over {v['seeds']} seeds "
            f"(per seed: {', '.join(_pts(s['diff']) for s in v['per_seed'])}).")


def _dpo_story(ph: dict[str, Any], task: str) -> list[str]:
    """The [dpo] arms of a phase: what their pairs cost, then each against SFT alone and each other."""
    dpo = ph.get("dpo")
    if not dpo:
        return []
    lines = []
    for s in dpo.get("searches", []):
        rnd = s.get("random", {})
        lines.append(f"  DPO pairs: pivotal search on {s['start']}'s selection-pool run ({s['items']} items): "
                     f"{s['pivotal_tokens']} pivotal tokens, {s['pairs']} pairs, {s['rollouts']} rollouts "
                     f"({s['generated']} generated), {s['seconds']:.0f} s" + (" (reused)" if s["reused"] else "")
                     + ("; random positions, per seed: " + ", ".join(
                         f"{r['pairs']} pairs ({r['same_rule']} by the pivotal rule), {r['rollouts']} rollouts"
                         for r in rnd.values()) if rnd else "") + ".")
    for v in dpo.get("versus", {}).get(task, {}).values():
        lines.append(_versus_line(f"{v['a']} vs {v['b']}", v))
    return lines


def loop_command(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="the loop's TOML file (every key: `harness loop --example demo`)")] = None,
    example: Annotated[Optional[str], typer.Option("--example", help="print an example config (demo, gpu, smollm2) and exit")] = None,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Run the data-first loop on your own student, teacher and tasks, and measure it honestly.

    A test pool is split off first and never used for selection, augmentation or training. From the
    selection pool each arm picks as many items: `teachable` (the student fails by majority but some
    own samples are right, or the teacher solves reliably), `random` (the control), optionally
    `all-failed` and `easy`. Every arm is fine-tuned with the same recipe at each seed, then the base
    and every arm are scored on the test pool, item by item: each arm against the base, and teachable
    against random, per seed and pooled. A rerun generates and trains nothing and adds no run rows.

    Start from an example: harness loop --example demo > loop.toml; harness loop -c loop.toml
    """
    from harness.errors import HarnessError
    from harness.loop.config import load_config
    from harness.loop.engine import run_loop

    if example is not None:
        if example not in EXAMPLES:
            raise HarnessError(f"no example {example!r}; choose one of {', '.join(EXAMPLES)}")
        print(resources.files("harness").joinpath(EXAMPLES[example]).read_text(encoding="utf-8"), end="")
        return
    if config is None:
        raise HarnessError("pass --config loop.toml (or --example demo to print a config to start from)")
    cfg = load_config(config)
    say = (lambda s: None) if as_json else (lambda s: err.print(f"[bold cyan]loop:[/] {s}", highlight=False))
    result = run_loop(cfg, progress=progress and not as_json, say=say)
    if as_json:
        print(json.dumps(result, indent=1))
        return
    for line in story(result):
        out.print(line, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("loop")(loop_command)
