"""The `harness` command line: one Typer app, every command a plain function in a module of this package,
registered the same way (`register(app)`), errors turned into one-line messages in one place (`main`)."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from harness.cli.common import err
from harness.errors import HarnessError

app = typer.Typer(
    name="harness",
    help=(
        "Evaluate a small model against a large one: k samples per item, generated once and cached in a "
        "DuckDB file; majority vote over equivalent answers; pass@k; paired comparison.\n\n"
        "Start with `harness demo` (a tiny local model, no GPU or network), then "
        "`harness run --model ALIAS --task gsm8k -k 8` with a models file (see `harness models`)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from harness import __version__

        print(f"harness {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="print the version and exit")] = False) -> None:
    pass

# Command modules, in the order `harness --help` lists them. Adding a command: a module with plain
# functions and a `register(app)`, and its name here.
COMMANDS = ("run", "catalog", "sft", "samples", "ingest", "demo", "loop", "compare", "score", "grading", "teach", "nightly", "synth",
            "leaderboard", "runs_io", "pivotal", "dpo")


def _register_commands() -> None:
    for name in COMMANDS:
        importlib.import_module(f"harness.cli.{name}").register(app)


_register_commands()


# Commands that store what they generate as they go: interrupted, they resume where they stopped.
RESUMABLE = ("run", "nightly", "demo", "loop", "synth", "ingest", "ingest-lm-eval")


def interrupted_message(argv: list[str]) -> str:
    """What Ctrl-C leaves: for a command that stores as it goes, how to pick up where it stopped."""
    import shlex

    command = next((a for a in argv if not a.startswith("-")), "")
    if command in RESUMABLE:
        return (f"interrupted: every completed batch is stored; run `{shlex.join(['harness', *argv])}` "
                "again to resume (nothing stored is generated twice)")
    return "interrupted"


def _was_interrupted(exc: BaseException) -> bool:
    """Typer turns Ctrl-C into a silent exit 130; the KeyboardInterrupt is in the exception's chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def main() -> None:
    import sys

    try:
        app()
    except HarnessError as exc:
        from rich.markup import escape  # a message's [models.phi] is text, not markup to swallow

        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err.print(interrupted_message(sys.argv[1:]), highlight=False, soft_wrap=True)
        raise SystemExit(130) from None
    except SystemExit as exc:
        if exc.code == 130 and _was_interrupted(exc):
            err.print(interrupted_message(sys.argv[1:]), highlight=False, soft_wrap=True)
        raise
