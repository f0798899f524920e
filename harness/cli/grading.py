"""`harness regrade` and `harness audit`: a stored run graded again under other conventions, and a
second grader's opinion on it, both from the stored samples (nothing is generated)."""

from __future__ import annotations

import json
import shlex
import sys
from typing import Annotated

import typer

from harness.cli.common import (ConventionsOpt, DbOpt, DecimalCommaOpt, DecimalsOpt, JsonOpt, ListOrderOpt, PercentOpt,
                                ToleranceOpt, audit_after_run, audits_json, existing_store, math_options, print_audits,
                                print_summary, split_csv)

RunOpt = Annotated[str, typer.Option("--run", help="the run's id (see `harness runs`)")]
TasksOpt = Annotated[list[str], typer.Option("--task", "-t", help="only these tasks of the run (default: all it has)")]


def regrade(
    run: RunOpt,
    conventions: ConventionsOpt = None,
    percent: PercentOpt = None,
    decimals: DecimalsOpt = None,
    decimal_comma: DecimalCommaOpt = None,
    list_order: ListOrderOpt = None,
    tolerance: ToleranceOpt = None,
    task: TasksOpt = [],
    audit: Annotated[bool, typer.Option("--audit", help="then a second opinion on the new run (as `harness audit`)")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Grade a stored run again from its stored samples (math under --conventions and flags), as a
    new run beside it: nothing is generated."""
    from harness.pipeline.regrade import regrade as do_regrade
    from harness.store import Store

    opts = math_options(conventions, percent=percent, decimals=decimals, decimal_comma=decimal_comma,
                        list_order=list_order, tolerance=tolerance)
    existing_store(db)  # an error, not a new file, when there is none
    store = Store(db)
    summary = do_regrade(store, run, opts, tasks=split_csv(task) or None, command=shlex.join(["harness", *sys.argv[1:]]))
    audits = audit_after_run(store, summary.run_id) if audit else None
    if as_json:
        print(json.dumps({**summary.to_json(), "regraded_from": run,
                          **({"audit": audits_json(audits)} if audits is not None else {})}))
    else:
        print_summary(summary)
        print(f"regraded from run {run}: nothing generated")
        if audits is not None:
            print_audits(audits)


def audit(
    run: RunOpt,
    task: TasksOpt = [],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A second opinion on a stored run: Math-Verify grades the math tasks' extracted answers, and where
    it disagrees with the stored verdict the sample is stored (the leaderboard shows them)."""
    from harness.store import Store

    existing_store(db)
    audits = audit_after_run(Store(db), run, split_csv(task) or None)
    if as_json:
        print(json.dumps({"run_id": run, "audit": audits_json(audits)}))
    else:
        print_audits(audits)


def register(app: typer.Typer) -> None:
    app.command()(regrade)
    app.command()(audit)
