"""`harness demo`: the main job on an embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from harness.cli.common import DEFAULT_K, DbOpt, KOpt, err, print_summary


def demo(
    db: DbOpt = None,
    k: KOpt = DEFAULT_K,
    limit: Annotated[int, typer.Option(help="items of the task")] = 20,
    task: Annotated[str, typer.Option(help="task to run (gsm8k needs --data-dir or the hub)")] = "arith",
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="folder with local benchmark files (gsm8k and the like)")] = None,
    model_dir: Annotated[Optional[Path], typer.Option("--model-dir", help="where the tiny model is built (default: ~/.cache/harness)")] = None,
) -> None:
    """The main job on an embedded default: builds a tiny random-weight model locally (no download),
    runs an embedded task with k samples per item through the real transformers path, stores it.

    The model's weights are random, so its scores are meaningless: this shows the pipeline works.
    """
    from harness.data import Source
    from harness.models import ModelSpec
    from harness.pipeline.runner import run as do_run
    from harness.store import Store
    from harness.tasks import get_task
    from harness.tiny import build_tiny_model

    path = build_tiny_model(model_dir)
    spec = ModelSpec(name="tiny-random", backend="hf", model=str(path), params_b=0.0002, family="tiny",
                     sampling={"max_tokens": 48, "temperature": 1.0})
    store = Store(db)
    summary = do_run(spec, [get_task(task)], k, store, Source.resolve(data_dir, limit), command="harness demo")
    print_summary(summary)
    err.print(
        f"[bold]Note:[/] the model at {path} has random weights, so these scores are meaningless; the numbers "
        f"show the pipeline (generate, cache, grade, vote, store) works. Results are in {store.path}; "
        f"see `harness runs --db {store.path}`. Run it again: everything is reused from the store."
    )


def register(app: typer.Typer) -> None:
    app.command()(demo)
