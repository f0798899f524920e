"""`harness nightly`: measure tonight's models per task and per domain, judge them against the
previous night, record the night and write its report."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from harness.cli.common import DEFAULT_K, DataDirOpt, DbOpt, JsonOpt, ModelsOpt, existing_store, out, require_model, split_csv

STYLE = {"regressed": "bold red", "improved": "green", "steady": "default", "no_baseline": "dim"}


def nightly(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="nightly.toml: models, tasks, domains, k, seeds, sampling, phase (see `harness.analysis.nightly_config`)")] = None,
    model: Annotated[list[str], typer.Option("--model", "-m", help="models to run and check (repeat); added to the config's")] = [],
    task: Annotated[list[str], typer.Option("--task", "-t", help="tasks (repeat or comma-separate); added to the config's")] = [],
    k: Annotated[Optional[int], typer.Option("-k", help=f"k of maj@k and pass@k (default: the config's, else {DEFAULT_K})")] = None,
    limit: Annotated[Optional[int], typer.Option(help="first N items of each task")] = None,
    alpha: Annotated[Optional[float], typer.Option(help="significance level for a change (default 0.05)")] = None,
    seed: Annotated[list[int], typer.Option("--seed", help="sampling seeds (repeat; default 0 and 1): the first is checked, the spread across all is the noise floor")] = [],
    revision: Annotated[list[str], typer.Option("--revision", help="MODEL=REVISION (repeat), or REVISION with one model: which weights a model is tonight")] = [],
    label: Annotated[Optional[str], typer.Option(help="tuning phase of this night, e.g. 'math SFT round 2'")] = None,
    tuning: Annotated[Optional[str], typer.Option(help="the domain being tuned: other domains that regress are flagged")] = None,
    suite: Annotated[Optional[str], typer.Option(help="suite name (default: the config file's name, else 'nightly')")] = None,
    night: Annotated[Optional[str], typer.Option(help="night id to run or resume (default: resume the suite's unfinished night, else SUITE-DATE)")] = None,
    new_night: Annotated[bool, typer.Option("--new-night", help="start a new night even if the last one did not finish")] = False,
    report_dir: Annotated[Optional[Path], typer.Option("--report-dir", help="where night-ID.md and .json go (default: nightly-reports beside the store)")] = None,
    lock: Annotated[Optional[Path], typer.Option("--lock", help="lock file (default: the store's path + .nightly.lock)")] = None,
    leaderboard_url: Annotated[Optional[str], typer.Option("--leaderboard-url", help="base URL for the report's links")] = None,
    fail_on_regression: Annotated[Optional[bool], typer.Option("--fail-on-regression/--no-fail-on-regression", help="exit 1 on a regression (default: yes)")] = None,
    check_only: Annotated[bool, typer.Option("--check-only", help="skip the runs; check each model's newest run of each task against the one before")] = False,
    db: DbOpt = None,
    models: ModelsOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every MODEL on every TASK at each seed (what the store has is reused, except for models
    nothing identifies: their samples are the night's own), then judge each task and each domain
    against the previous night on the items both have: paired statistics, a noise floor measured
    across seeds, a verdict (regressed, improved, steady). One night at a time (a lock file naming
    its holder); a night that crashed is resumed by running the same command again.

    Writes a markdown and a JSON report (night-ID.md/.json, and latest.md/.json); exits 1 when something regressed, 3 when a model's part
    failed (its endpoint was down), 2 on a usage error, else 0, so cron or CI can alert.
    """
    from harness import models as models_mod
    from harness.analysis.nightly_config import NightConfig, load_config, parse_revisions
    from harness.errors import HarnessError
    from harness.store import resolve_db_path

    if check_only:
        _check_only(model, task, alpha, db, models, as_json)
        return
    cfg = load_config(config) if config else None
    names = tuple(dict.fromkeys([*(cfg.models if cfg else ()), *model]))
    extra_tasks = tuple(split_csv(task))
    if not names:
        raise HarnessError("a nightly needs at least one model: --config nightly.toml or --model NAME")
    if not (cfg and cfg.all_tasks()) and not extra_tasks:
        raise HarnessError("a nightly needs at least one task: --config nightly.toml or --task NAME")
    base = cfg or NightConfig(suite="nightly", models=names, tasks=extra_tasks)
    revs = {**(cfg.revisions if cfg else {}), **parse_revisions(revision, names)}
    cfg = base.with_overrides(
        suite=suite, models=names or None, tasks=tuple(dict.fromkeys([*(cfg.tasks if cfg else ()), *extra_tasks])) or None,
        k=k, limit=limit, alpha=alpha, seeds=tuple(seed) or None, label=label, tuning=tuning,
        report_dir=report_dir, leaderboard_url=leaderboard_url, fail_on_regression=fail_on_regression,
        db=db, models_file=models, data_dir=data_dir, lock=lock, revisions=revs)
    unknown = sorted(set(cfg.revisions) - set(cfg.models))
    if unknown:
        raise HarnessError(f"--revision names {unknown[0]!r}, which is not among the night's models: {', '.join(cfg.models)}")
    _run(cfg, night, new_night, as_json, resolve_db_path(cfg.db), models_mod)


def _run(cfg, night, new_night, as_json, db_path, models_mod) -> None:
    from harness.analysis.nightly_lock import NightlyLock
    from harness.analysis.nightly_run import pick_night, run_night, stderr_log
    from harness.analysis.nightly_report import report_json
    from harness.data import Source
    from harness.store import Store
    from harness.tasks import get_tasks

    tasks = get_tasks(list(cfg.all_tasks()))
    specs = {name: models_mod.resolve(name, cfg.models_file) for name in cfg.models}
    source = Source.resolve(cfg.data_dir, cfg.limit)
    store = Store(db_path)
    with NightlyLock(cfg.lock or db_path.with_name(db_path.name + ".nightly.lock")) as held:
        if held.stale is not None:
            stderr_log(f"stale lock found: {held.stale.describe()} did not finish (crashed or killed); taking over")
        night_id, resumed = pick_night(store, cfg.suite, night, new_night)
        held.set_night(night_id)
        result = run_night(cfg, tasks, specs, store, night_id=night_id, resumed=resumed, source=source,
                           command=shlex.join(["harness", *sys.argv[1:]]))
    folder = cfg.report_dir or db_path.parent / "nightly-reports"
    folder.mkdir(parents=True, exist_ok=True)
    doc = report_json(result)
    md_path, json_path = folder / f"night-{night_id}.md", folder / f"night-{night_id}.json"
    night = store.night(night_id)
    assert night is not None  # just written by this night
    md = night["report_md"]
    md_path.write_text(md, encoding="utf-8")
    json_path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    (folder / "latest.md").write_text(md, encoding="utf-8")  # what cron mails and chat hooks post
    (folder / "latest.json").write_text(json_path.read_text(encoding="utf-8"), encoding="utf-8")
    stderr_log(f"report: {md_path} and {json_path}")
    if as_json:
        print(json.dumps(doc, default=str))
    else:
        _print(result)
    code = result.exit_code()
    if code:
        raise typer.Exit(code)


def _print(result) -> None:
    for w in result.warnings:
        out.print(f"[bold yellow]warning:[/] {escape(w)}", highlight=False)
    table = Table(title=f"night {result.night_id}" + (f" ({result.config.label})" if result.config.label else ""))
    for col in ("model", "scope", "name", "items", "before", "now", "diff [95% CI]", "p", "noise", "fell", "verdict"):
        table.add_column(col)
    fmt = lambda x: "" if x is None else f"{100 * x:.1f}"
    for v in result.verdicts:
        r = v.row
        ci = "" if r.diff is None else f"{100 * r.diff:+.1f} [{100 * r.diff_low:+.1f}, {100 * r.diff_high:+.1f}]"
        flag = f" (while {v.fell_while_tuning} tuned)" if v.fell_while_tuning else ""
        table.add_row(r.model_name, r.scope, r.domain or r.task, str(r.n_items), fmt(r.baseline_score), fmt(r.score),
                      ci, "" if r.p_value is None else f"{r.p_value:.3g}", fmt(r.noise_floor), str(r.fell or 0),
                      f"[{STYLE[r.status]}]{r.status}[/]{flag}")
    out.print(table)
    for p in result.parts:
        state = "done" if p.status == "done" else f"[bold red]FAILED[/] {escape(p.error or '')}"
        out.print(f"{p.model}: {state}; generated {p.generated}, reused {p.reused}", highlight=False)
    out.print(f"night verdict: [{STYLE.get(result.verdict, 'bold red')}]{result.verdict}[/]")


def _check_only(model, task, alpha, db, models, as_json) -> None:
    from harness import models as models_mod
    from harness.analysis.nightly import check_models
    from harness.errors import HarnessError
    from harness.store import Store

    names = split_csv(task)
    store = existing_store(db)
    known = {r["model_name"] for r in store.runs() if r["status"] == "done"}

    def name_of(m: str) -> str:  # an alias, or a name the store has runs of (an ingested model)
        if m in known:
            return m
        try:
            return models_mod.resolve(m, models).name
        except HarnessError:
            require_model(store, m)
            raise

    checks = check_models(Store(store.path), [name_of(m) for m in model], names, 0.05 if alpha is None else alpha)
    if as_json:
        print(json.dumps([c.to_json() for c in checks]))
    else:
        table = Table(title="nightly check")
        for col in ("model", "task", "items", "before", "now", "diff [95% CI]", "p", "status"):
            table.add_column(col)
        for c in checks:
            fmt = lambda x: "" if x is None else f"{100 * x:.1f}"
            ci = ("" if c.diff is None or c.diff_low is None or c.diff_high is None
                  else f"{100 * c.diff:+.1f} [{100 * c.diff_low:+.1f}, {100 * c.diff_high:+.1f}]")
            table.add_row(c.model_name, c.task, str(c.n_items), fmt(c.baseline_score), fmt(c.score), ci,
                          "" if c.p_value is None else f"{c.p_value:.3g}", f"[{STYLE[c.status]}]{c.status}[/]")
        out.print(table)
    if any(c.status == "regressed" for c in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(nightly)
