"""`harness pivotal` (where along its samples a model's chance of a right answer jumps) and
`harness export-dpo` (preference pairs at those tokens, for `harness dpo`)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from harness.cli.common import DataDirOpt, DbOpt, JsonOpt, ModelsOpt, ProgressOpt, TaskArgOpt, err, out, split_csv
from harness.errors import HarnessError


def _band(text: str) -> tuple[float, float]:
    parts = [p.strip() for p in text.split(",")]
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise HarnessError(f"--band {text!r}: write LOW,HIGH (e.g. 0.2,0.8)") from None
    return lo, hi


def pivotal(
    model: Annotated[str, typer.Option("--model", "-m", help="alias from the models file, or hf:PATH / vllm:PATH (its tokenizer cuts the prefixes)")],
    task: Annotated[str, typer.Option("--task", "-t", help="the task whose grader is the oracle")],
    items: Annotated[list[str], typer.Option("--items", help="item ids (repeat or comma-separate; default: the model's training queue for the task, else the run's teachable items)")] = [],
    run: Annotated[Optional[str], typer.Option("--run", help="the run whose samples are searched (default: the model's latest of the task); a loop's selection-pool run keeps its test pool out")] = None,
    rollouts: Annotated[int, typer.Option("--rollouts", "-N", help="continuations sampled per prefix")] = 16,
    p_gap: Annotated[float, typer.Option("--p-gap", help="a jump in p(correct) at least this large is pivotal")] = 0.2,
    band: Annotated[str, typer.Option("--band", help="search items whose p(prompt) lies in LOW,HIGH")] = "0.2,0.8",
    samples: Annotated[int, typer.Option("--samples", help="stored samples searched per item (its wrong ones first)")] = 2,
    max_rollouts: Annotated[Optional[int], typer.Option("--max-rollouts", help="budget: stop before the estimates would use more rollouts (cached ones count)")] = None,
    seed: Annotated[Optional[int], typer.Option(help="base seed of the rollouts (default: the model's)")] = None,
    count_split: Annotated[bool, typer.Option("--count-split", help="split segments at their middle token, not at the middle of their log-probability (which needs the hf backend, and loads the model even when every rollout is stored)")] = False,
    recheck_seed: Annotated[Optional[int], typer.Option("--recheck-seed", help="afterwards, re-estimate each pivotal token's delta p with fresh rollouts at this seed and report how many keep their sign")] = None,
    db: DbOpt = None,
    models: ModelsOpt = None,
    data_dir: DataDirOpt = None,
    task_arg: TaskArgOpt = [],
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Pivotal token search (Phi-4 report, section 4.3) on the model's samples in its latest run of
    TASK: p(prefix) is the share of N rollouts from the prompt plus the prefix that the task's grader
    marks correct; along each sample Subdivide finds the single tokens where p jumps by at least
    --p-gap. Rollouts are cached like any sample (a rerun generates nothing). Prints the tokens and
    the cost; `harness export-dpo` turns them into preference pairs."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness import models as models_mod
    from harness.analysis.pivotal_run import PivotalConfig, find_pivotal
    from harness.backends import make_backend
    from harness.backends.tokens import token_splitter
    from harness.data import Source
    from harness.pipeline.runner import resolve_sampling
    from harness.cli.common import existing_store
    from harness.store import Store
    from harness.task import configure_tasks, parse_task_args
    from harness.tasks import get_task

    spec = models_mod.resolve(model, models)
    try:
        the_task = get_task(task)
    except HarnessError as exc:
        raise HarnessError(f"{exc}; pivotal tokens need the task's own grader as the oracle") from None
    the_task = configure_tasks([the_task], parse_task_args(task_arg))[0]
    lo, hi = _band(band)
    config = PivotalConfig(rollouts=rollouts, p_gap=p_gap, band=(lo, hi), samples=samples,
                           max_rollouts=max_rollouts, recheck_seed=recheck_seed)
    splitter = token_splitter(spec)  # a served model is refused before anything is read
    store = Store(existing_store(db).path)  # a mistyped --db is an error, not a new empty store
    wanted = split_csv(items)
    if not wanted:
        wanted = [r["item_id"] for r in store.queue(spec.name) if r["task"] == the_task.name]
    if not wanted:  # nothing queued: the run's own teachable items (majority wrong, some samples right)
        from harness.analysis.teach import teachable

        source = run or store.latest_run(spec.name, the_task.name)
        wanted = [t.item_id for t in teachable(store.item_results(source, [the_task.name]))] if source else []
        if not wanted:
            raise HarnessError(f"no teachable item of {spec.name} on {the_task.name} in {store.path}: run `harness "
                               f"teach --model {spec.name}` or `harness run` first, or name items with --items")
    loaded = {it.id: it for it in the_task.load_items(Source.resolve(data_dir, None))}
    unknown = [i for i in wanted if i not in loaded]
    if unknown:
        raise HarnessError(f"task {the_task.name} has no item {unknown[0]!r}")
    params = resolve_sampling(spec, the_task, {"seed": seed})
    backend = None

    def get_backend():
        nonlocal backend
        if backend is None:
            backend = make_backend(spec)
        return backend

    def logprobs(prompt, pieces):
        score = getattr(get_backend(), "token_logprobs", None)  # hf: the model scores its own tokens
        return None if score is None else score(prompt, pieces)

    console = Console(stderr=True)
    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False) if progress and not as_json else None
    state = {"round": 0}

    def on_round(rnd: int, asked: int) -> None:
        state["round"] = rnd

    def bar(total: int):
        if bars is None:
            return lambda n: None
        tid = bars.add_task(f"round {state['round']}: rollouts", total=total)
        return lambda n: bars.advance(tid, n)

    try:
        if bars is not None:
            bars.__enter__()
        report = find_pivotal(store, spec, the_task, [loaded[i] for i in wanted], splitter.pieces, get_backend, params,
                              config, command=shlex.join(["harness", *sys.argv[1:]]), progress=bar,
                              on_round=on_round, logprobs=None if count_split else logprobs, source_run=run)
    finally:
        if bars is not None:
            bars.__exit__(None, None, None)
        if backend is not None:
            backend.close()
    if as_json:
        print(json.dumps(report.to_json()))
        return
    s = report.search
    table = Table(title=f"pivotal tokens of {s.model_name} on {s.task} (search {s.search_id})")
    for col in ("item", "sample", "pos", "token", "p before", "p after", "delta [95% CI]", "recheck"):
        table.add_column(col, justify="left" if col in ("item", "token") else "right")
    for t in report.tokens:
        table.add_row(t.item_id, str(t.sample), str(t.position), repr(t.token), f"{t.p_before:.2f}", f"{t.p_after:.2f}",
                      f"{t.delta:+.2f} [{t.delta_low:+.2f}, {t.delta_high:+.2f}]",
                      "" if t.recheck_delta is None else f"{t.recheck_delta:+.2f}")
    out.print(table)
    per = report.rollouts_per_pivotal
    out.print(f"{s.n_items} items, {s.n_in_band} with p(prompt) in [{lo}, {hi}], {s.n_samples} samples searched: "
              f"{s.n_pivotal} pivotal tokens; {s.rollouts} rollouts ({s.generated} generated, "
              f"{s.tokens_generated:,} tokens)" + (f", {per:.0f} rollouts per pivotal token" if per else "")
              + f", {s.seconds:.0f} s" + (" [budget reached: the search stopped early]" if s.budget_hit else ""),
              highlight=False)
    if s.recheck_n:
        out.print(f"recheck with fresh rollouts (seed {s.recheck_seed}): {s.recheck_agree} of {s.recheck_n} "
                  f"deltas keep their sign ({100 * (s.recheck_agree or 0) / s.recheck_n:.0f}%)", highlight=False)


def export_dpo(
    model: Annotated[str, typer.Option("--model", "-m", help="the model whose pivotal tokens (`harness pivotal`)")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="JSONL file of preference pairs (TRL's prompt/chosen/rejected)")],
    task: Annotated[Optional[str], typer.Option("--task", "-t", help="one task (default: all)")] = None,
    search: Annotated[Optional[str], typer.Option("--search", help="one search id (default: each task's newest)")] = None,
    chat: Annotated[Optional[bool], typer.Option("--chat/--plain", help="conversational turns or plain text (default: as the model's tokenizer has a chat template)")] = None,
    models: ModelsOpt = None,
    db: DbOpt = None,
) -> None:
    """Write preference pairs at the model's pivotal tokens: prompt = the item's prompt + the sample's
    text before the token; chosen raises p(correct), rejected lowers it, both first tokens of rollouts
    already sampled; each line with its lineage (model, task, item, sample, position, p values, N)."""
    from harness.analysis.preference import preference_lines, write_lines
    from harness.cli.common import existing_store

    found = existing_store(db)
    if chat is None:
        from harness import models as models_mod
        from harness.backends.tokens import token_splitter

        chat = bool(getattr(token_splitter(models_mod.resolve(model, models)).tok, "chat_template", None))
    lines, report = preference_lines(found, model, chat=chat, search_id=search, task=task)
    if not report.searches:
        raise HarnessError(f"no pivotal search of {model} in {found.path}: run `harness pivotal --model {model} "
                           "--task T` first")
    if not lines:
        raise HarnessError(f"{report.pivotal} pivotal tokens of {model}, none with a rollout on the other side: "
                           f"{out_path} was not written (more --rollouts give more alternatives)")
    write_lines(lines, out_path)
    err.print(f"wrote {report.pairs} preference pairs to {out_path} ({report.pivotal} pivotal tokens, "
              f"{report.no_alternative} without an alternative token among their rollouts, {report.duplicates} "
              "the same pair as another sample's)", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(pivotal)
    app.command("export-dpo")(export_dpo)
