"""`harness ingest lm-eval DIR`: lm-eval's --output_path folder (with --log_samples) stored as runs.

`harness ingest lm-eval DIR` is routed to `ingest_lm_eval` by the `ingest` command below;
`harness ingest-lm-eval DIR` is the same command under its own name.
"""


import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from harness.cli.common import ConventionsOpt, DbOpt, JsonOpt, ModelsOpt, err, math_options, print_summary, writing_store
from harness.errors import HarnessError


def ingest_lm_eval(path: Path | None, *, db: Path | None = None, model: str | None = None,
                   models: Path | None = None, params_b: float | None = None, family: str | None = None,
                   filter_name: str | None = None, as_json: bool = False) -> None:
    """Ingest, then print one summary table per run (or one JSON list with --json)."""
    from harness.errors import HarnessError
    from harness.pipeline.ingest_lmeval import ingest_lm_eval as do_ingest

    if path is None:
        raise HarnessError("write `harness ingest lm-eval DIR`, DIR being the folder given to lm_eval --output_path")
    with writing_store(db) as store:
        runs, skipped = do_ingest(store, path, model=model, models_path=models, params_b=params_b, family=family,
                                  filter_name=filter_name)
    for note in skipped:
        err.print(f"skipped {note}", highlight=False)
    if as_json:
        print(json.dumps([r.to_json() for r in runs]))
        return
    for r in runs:
        print_summary(r)



def ingest_lm_eval_cmd(
    path: Annotated[Path, typer.Argument(help="the folder given to lm_eval --output_path (run with --log_samples)")],
    db: DbOpt = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="store the run under this name; a models-file alias or inline spec takes that model's id (default: lm-eval's model name)")] = None,
    models: ModelsOpt = None,
    params_b: Annotated[Optional[float], typer.Option("--params-b", help="the model's size in billions of parameters")] = None,
    family: Annotated[Optional[str], typer.Option(help="model family")] = None,
    filter_name: Annotated[Optional[str], typer.Option("--filter", help="lm-eval filter whose answer is graded per sample (default: the task's first)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Store lm-eval output (results JSON and samples JSONL, every repeat) as runs: each repeat graded
    by the task's own filter and metric, so lm-eval runs show in compare and the leaderboard."""
    ingest_lm_eval(path, db=db, model=model, models=models, params_b=params_b, family=family,
                   filter_name=filter_name, as_json=as_json)


def ingest(
    path: Annotated[Path, typer.Argument(help="JSONL of generations: model, task, item_id, response; optional sample, gold, prompt. Or `lm-eval DIR`: lm_eval's --output_path folder")],
    lm_eval_dir: Annotated[Optional[Path], typer.Argument(metavar="[DIR]", help="after `lm-eval`: the folder lm_eval --output_path --log_samples wrote")] = None,
    db: DbOpt = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="with lm-eval: store the run under this name (a models-file alias takes that model's id)")] = None,
    params_b: Annotated[Optional[float], typer.Option("--params-b", help="the model's size in billions of parameters")] = None,
    family: Annotated[Optional[str], typer.Option(help="model family")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="where the task's items are, for lines without gold")] = None,
    again: Annotated[bool, typer.Option("--again", help="store a file ingested before as one more run (refused by default)")] = False,
    conventions: ConventionsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Store generations made elsewhere as runs (one per model), graded by each task's own grader, so
    they are compared and shown like any other run."""
    from harness.data import Source
    from harness.pipeline.ingest import ingest_file

    if str(path) == "lm-eval":  # harness ingest lm-eval DIR

        return ingest_lm_eval(lm_eval_dir, db=db, model=model, params_b=params_b, family=family, as_json=as_json)
    if lm_eval_dir is not None:
        raise HarnessError(f"unexpected argument {lm_eval_dir}: ingest takes one JSONL file, or `lm-eval DIR`")
    with writing_store(db) as store:
        runs_ = ingest_file(store, path, params_b=params_b, family=family, source=Source.resolve(data_dir), again=again,
                            math_options=math_options(conventions) if conventions is not None else None)
    if as_json:
        print(json.dumps([r.to_json() for r in runs_]))
        return
    for r in runs_:
        print_summary(r)



def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command("ingest-lm-eval")(ingest_lm_eval_cmd)
