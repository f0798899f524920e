"""`harness run`: generate what is missing, grade, vote and store."""

from __future__ import annotations

import json
import shlex
import sys
from typing import Annotated, Optional

import typer

from harness.cli.common import (DEFAULT_K, ConventionsOpt, DataDirOpt, DbOpt, JsonOpt, KOpt, ModelsOpt, ProgressOpt, RevisionOpt,
                                TaskArgOpt, audit_after_run, audits_json, err, math_options, print_audits, print_summary,
                                split_csv, writing_store)
from harness.errors import HarnessError


def run(
    model: Annotated[str, typer.Option("--model", "-m", help="alias from the models file, or inline: hf:PATH_OR_ID, vllm:PATH_OR_ID, openai:MODEL@BASE_URL")],
    task: Annotated[list[str], typer.Option("--task", "-t", help="task name (repeat or comma-separate); see `harness tasks`")],
    k: KOpt = DEFAULT_K,
    n: Annotated[Optional[int], typer.Option("-n", "--samples", help="samples per item (>= k; default k): maj@k and pass@k are then estimated over k-subsets of n")] = None,
    limit: Annotated[Optional[int], typer.Option(help="first N items of each task")] = None,
    db: DbOpt = None,
    models: ModelsOpt = None,
    data_dir: DataDirOpt = None,
    temperature: Annotated[Optional[float], typer.Option(help="overrides the model's default")] = None,
    top_p: Annotated[Optional[float], typer.Option("--top-p", help="nucleus sampling; overrides the model's default")] = None,
    max_tokens: Annotated[Optional[int], typer.Option("--max-tokens", help="most tokens per completion; overrides the model's default")] = None,
    seed: Annotated[Optional[int], typer.Option(help="base seed; sample i of a prompt draws with a seed derived from it and i")] = None,
    permutations: Annotated[Optional[int], typer.Option(help="multiple choice: evaluate each item under N orderings (= --task-arg permutations=N)")] = None,
    task_arg: TaskArgOpt = [],
    revision: RevisionOpt = None,
    conventions: ConventionsOpt = None,
    audit: Annotated[bool, typer.Option("--audit", help="then a second opinion: Math-Verify (if installed) grades the math tasks' extracted answers, and the disagreements are stored (as `harness audit`)")] = False,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Generate k samples per item (reusing every stored one), grade, vote and store the results.

    Rerunning the same command generates nothing new; after a crash it picks up where it stopped;
    raising -k generates only the new samples.
    """
    from harness import models as models_mod
    from harness.data import Source
    from harness.pipeline.identity import identify
    from harness.pipeline.runner import run as do_run
    from harness.task import configure_tasks, parse_task_args
    from harness.tasks import get_tasks

    ident = identify(models_mod.resolve(model, models), revision=revision)
    if ident.warning:
        err.print(f"[yellow]warning:[/] {ident.warning}", highlight=False)
    spec = ident.spec
    tasks = get_tasks(split_csv(task))
    if not tasks:
        raise HarnessError("no task given: pass --task NAME (see `harness tasks`)")
    args = parse_task_args(task_arg)
    if permutations is not None:
        args.setdefault("permutations", str(permutations))
    tasks = configure_tasks(tasks, args)
    source = Source.resolve(data_dir, limit)
    sampling = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seed": seed}
    opts = math_options(conventions) if conventions is not None else None
    with writing_store(db) as store:
        summary = do_run(spec, tasks, k, store, source, n=n, sampling=sampling, progress=progress,
                         command=shlex.join(["harness", *sys.argv[1:]]), math_options=opts)
    audits = audit_after_run(store, summary.run_id) if audit else None
    if as_json:
        print(json.dumps({**summary.to_json(), **({"audit": audits_json(audits)} if audits is not None else {})}))
    else:
        print_summary(summary)
        if audits is not None:
            print_audits(audits)


def register(app: typer.Typer) -> None:
    app.command()(run)
