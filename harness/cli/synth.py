"""`harness synth ...`: make new verifiable items from existing ones.

    harness synth variants --task gsm8k --data-dir DIR --n 2 --seed 0 --out DIR/gsm8k_variants.jsonl
    harness synth numeric-form --task mmlu_science --data-dir DIR --out DIR/mmlu_science_numeric.jsonl
    harness synth rewrite --model ALIAS --in prompts.jsonl --out DIR/synth_rewrites.jsonl

Written into a data folder under those names, the items run as tasks (`tasks/synth_local.py`):
`harness run --task gsm8k_variants --data-dir DIR`. A summary goes to stderr (`--json`: to stdout).
"""

from __future__ import annotations

import json
import shlex
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any, Mapping, Optional

import typer
from rich.console import Console
from rich.table import Table

from harness.cli.common import DataDirOpt, DbOpt, JsonOpt
from harness.data import Source, load_rows, read_jsonl
from harness.errors import DataError, HarnessError
from harness.records import Item

err = Console(stderr=True)

synth_app = typer.Typer(
    name="synth",
    help=(
        "Synthesize verifiable items: numeric variants of GSM8K items (no model), free-response forms of "
        "multiple-choice items with numeric answers (no model), and model-written numeric rewrites of hard "
        "prompts that a majority of independent solves must confirm.\n\n"
        "Write the output into a data folder as gsm8k_variants.jsonl, mmlu_science_numeric.jsonl or "
        "synth_rewrites.jsonl and run it like any task: `harness run --task gsm8k_variants --data-dir DIR`."
    ),
    no_args_is_help=True,
)

# Tasks whose raw rows carry an annotated solution: task name -> (file, hub id, hub config, revision).
# GSM8K's hub id and revision are read from tasks/gsm8k.py when used (importing it here would load
# sympy on every command line start).
VARIANT_SOURCES: dict[str, tuple[str, str | None, str | None, str | None]] = {
    "gsm8k": ("gsm8k_test.jsonl", "harness.tasks.gsm8k", "main", "harness.tasks.gsm8k"),
    "gsm8k_variants": ("gsm8k_variants.jsonl", None, None, None),
}
# Tasks whose rows are {id?, question, choices, answer_index}: task name -> local file.
CHOICE_SOURCES: dict[str, str] = {"mmlu_science": "mmlu_science_test.jsonl"}

LimitOpt = Annotated[Optional[int], typer.Option(help="first N items only")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write the new items to")]
InOpt = Annotated[Optional[Path], typer.Option("--in", help="JSONL file to read instead of a task's file")]


def _rows(task: str | None, in_path: Path | None, data_dir: Path | None, limit: int | None,
          sources: Mapping[str, Any], required: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    if (task is None) == (in_path is None):
        raise HarnessError(f"give exactly one of --task ({', '.join(sources)}) or --in FILE.jsonl")
    if in_path is not None:
        rows = []
        for i, row in enumerate(read_jsonl(in_path)):
            missing = [k for k in required if k not in row]
            if missing:
                raise DataError(f"{in_path}:{i + 1}: missing field(s) {', '.join(missing)}; needs {', '.join(required)}")
            rows.append((i, row))
            if limit is not None and len(rows) >= limit:
                break
        return rows
    if task not in sources:
        raise HarnessError(f"synth cannot read task {task!r} here; supported: {', '.join(sources)} (or pass --in FILE.jsonl)")
    spec = sources[task]
    filename, hub, config, revision = spec if isinstance(spec, tuple) else (spec, None, None, None)
    if hub == "harness.tasks.gsm8k":
        from harness.tasks.gsm8k import HUB, REVISION

        hub, revision = HUB, REVISION
    return load_rows(Source.resolve(data_dir, limit), filename, hub=hub, config=config, revision=revision,
                     required=required)


def _gold_line(solution: str) -> str:
    return solution.rsplit("####", 1)[1].strip().replace(",", "") if "####" in solution else ""


def _print_summary(title: str, summary: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary))
        return
    table = Table(title=title, show_header=False)
    for key, value in summary.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        elif isinstance(value, float):
            value = f"{100 * value:.1f}%"
        table.add_row(key, str(value))
    err.print(table)


def variants_command(
    out: OutOpt,
    task: Annotated[Optional[str], typer.Option(help="gsm8k, or gsm8k_variants (variants of variants)")] = None,
    in_path: InOpt = None,
    data_dir: DataDirOpt = None,
    n: Annotated[int, typer.Option("--n", help="variants per item (fewer when fewer valid ones are found)")] = 2,
    seed: Annotated[int, typer.Option(help="seed; each item draws from its own Random(seed, item id)")] = 0,
    limit: LimitOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Numeric variants of GSM8K-style items, no model needed.

    Reads each solution's calculator annotations (<<48/2=24>>) as a computation graph, draws new values
    for the question's numbers (same magnitude, integers stay integers), recomputes every step exactly
    and keeps a variant only when every step keeps its kind (integer, non-negative) and the rewritten
    item recomputes to its new answer. Items whose solution computes something in prose are skipped,
    with the reason counted. Ids are PARENT/vN. Input rows (--in) need question and answer (the
    annotated solution, ending in '#### N'); id is optional.

    Example: harness synth variants --task gsm8k --data-dir DIR --n 2 --out DIR/gsm8k_variants.jsonl,
    then harness run --task gsm8k_variants --data-dir DIR.
    """
    from harness.items_io import write_items
    from harness.synth.variants import make_variants, summarize

    if n < 1:
        raise HarnessError("--n must be at least 1")
    rows = _rows(task, in_path, data_dir, limit, VARIANT_SOURCES, ("question", "answer"))
    parents = [Item(id=str(row.get("id", i)), gold=str(row.get("gold") or _gold_line(row["answer"])),
                    fields={"question": row["question"], "answer": row["answer"]}) for i, row in rows]
    items, outcomes = make_variants(parents, n, seed)
    written = write_items(out, items)
    summary = {"out": str(out), "written": written, **summarize(outcomes)}
    _print_summary(f"synth variants ({task or in_path})", summary, as_json)


def numeric_form_command(
    out: OutOpt,
    task: Annotated[Optional[str], typer.Option(help="mmlu_science")] = None,
    in_path: InOpt = None,
    data_dir: DataDirOpt = None,
    limit: LimitOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Multiple-choice items whose choices are all numbers -> free-response numeric items.

    The correct choice's value becomes the gold (exact), its unit is named in the question, and a
    tolerance (half the smallest relative gap to a distractor, at most 2%) is recorded in meta.rel_tol
    and used by the mmlu_science_numeric task. Ids are PARENT/num. Input rows (--in) need question,
    choices and answer_index; id is optional.

    Example: harness synth numeric-form --task mmlu_science --data-dir DIR --out DIR/mmlu_science_numeric.jsonl,
    then harness run --task mmlu_science_numeric --data-dir DIR.
    """
    from collections import Counter

    from harness.items_io import write_items
    from harness.synth.numeric_form import convert

    rows = _rows(task, in_path, data_dir, limit, CHOICE_SOURCES, ("question", "choices", "answer_index"))
    reasons: Counter[str] = Counter()
    items = []
    for i, row in rows:
        conv = convert(str(row.get("id", i)), row["question"], list(row["choices"]), int(row["answer_index"]),
                       {"subject": row["subject"]} if "subject" in row else None)
        reasons[conv.reason or "converted"] += 1
        if conv.item is not None:
            items.append(conv.item)
    written = write_items(out, items)
    summary = {"out": str(out), "items": len(rows), "converted": written,
               "converted_rate": written / len(rows) if rows else 0.0,
               "not_converted": {k: v for k, v in reasons.most_common() if k != "converted"}}
    _print_summary(f"synth numeric-form ({task or in_path})", summary, as_json)


class _LazyBackend:
    """A model's backend, loaded on first use (a fully stored rerun never loads it)."""

    def __init__(self, spec: Any):
        self.spec, self.backend = spec, None

    def get(self) -> Any:
        if self.backend is None:
            from harness.backends import make_backend

            self.backend = make_backend(self.spec)
        return self.backend

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()


def rewrite_command(
    model: Annotated[str, typer.Option("--model", "-m", help="rewriter: alias from the models file or inline spec (hf:PATH, openai:MODEL@URL)")],
    in_path: Annotated[Path, typer.Option("--in", help="JSONL prompts: id (optional) and prompt/question/problem/text")],
    out: OutOpt,
    solver: Annotated[Optional[str], typer.Option(help="model that solves each rewrite k times (default: the rewriter)")] = None,
    k: Annotated[int, typer.Option("-k", help="independent solves per rewrite; a strict majority must agree")] = 5,
    rewrites: Annotated[int, typer.Option(help="rewrites asked per prompt")] = 1,
    log: Annotated[Optional[Path], typer.Option(help="JSONL of every candidate with its outcome and reason")] = None,
    models: Annotated[Optional[Path], typer.Option("--models", help="models file (default: $HARNESS_MODELS, then ./models.toml)")] = None,
    temperature: Annotated[float, typer.Option(help="sampling temperature for rewrites and solves")] = 0.7,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="token limit per completion")] = 1024,
    seed: Annotated[int, typer.Option(help="base seed of the samples")] = 0,
    limit: LimitOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hard prompts (proofs, free-form questions) -> questions with one numeric answer, model-written.

    The rewriter answers in QUESTION / SOLUTION / ANSWER sections. A candidate is kept only when its
    answer parses as one number or closed form (bounded parser, never eval) and a strict majority of
    k independent solves (by --solver, default the rewriter) are equivalent to it under the math
    grader. Every candidate's outcome is counted (and written to --log); ids are PROMPT_ID/rJ.

    Example: harness synth rewrite --model phi --solver 70b --in proofs.jsonl -k 5 --out DIR/synth_rewrites.jsonl
    --log candidates.jsonl, then harness run --task synth_rewrites --data-dir DIR.
    """
    from harness.models import resolve
    from harness.pipeline.generate import StoredGenerator
    from harness.pipeline.lifecycle import model_row, run_lifecycle
    from harness.store import Store
    from harness.records import Sampling
    from harness.items_io import write_items
    from harness.synth.rewrite import RewriteConfig, prompts_from_rows, rewrite

    if k < 1 or rewrites < 1:
        raise HarnessError("-k and --rewrites must be at least 1")
    rows = _rows(None, in_path, None, limit, {}, ())
    try:
        prompts = prompts_from_rows(rows)
    except ValueError as exc:
        raise DataError(f"{in_path}: {exc}") from None
    if not prompts:
        raise DataError(f"{in_path}: no prompts")
    rewriter_spec = resolve(model, models)
    solver_spec = resolve(solver, models) if solver and solver != model else None  # same model: load it once
    sampling = Sampling(max_tokens=max_tokens, temperature=temperature, seed=seed)
    config = RewriteConfig(rewrites=rewrites, k=k, rewrite_sampling=sampling, solve_sampling=sampling)
    store = Store(db)
    command = shlex.join(["harness", *sys.argv[1:]])
    # Every rewrite and solve is a stored generation under a run of its model: a rerun or a resumed
    # crash asks the models only for what is missing.
    with ExitStack() as stack:
        gens = []
        for spec in (rewriter_spec, solver_spec):
            if spec is None:
                gens.append(None)
                continue
            backend = _LazyBackend(spec)
            stack.callback(backend.close)
            run_id = stack.enter_context(run_lifecycle(store, model_row(spec), k=k, sampling=sampling.to_json(),
                                                       tasks=["synth_rewrite"], command=command, source="synth"))
            gens.append(StoredGenerator(store, run_id, spec.fingerprint(), backend.get))
        result = rewrite(prompts, gens[0], gens[1], config,
                         meta={"rewriter": rewriter_spec.name, "solver": (solver_spec or rewriter_spec).name})
    reused = sum(g.reused for g in gens if g is not None)
    generated = sum(g.generated for g in gens if g is not None)
    written = write_items(out, result.items)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w", encoding="utf-8") as fh:
            for c in result.candidates:
                fh.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
    _print_summary(f"synth rewrite ({rewriter_spec.name})", {"out": str(out), "written": written, "generated": generated, "reused": reused,
                    **result.stats()},
                   as_json)


def register(app: typer.Typer) -> None:
    synth_app.command("variants")(variants_command)
    synth_app.command("numeric-form")(numeric_form_command)
    synth_app.command("rewrite")(rewrite_command)
    app.add_typer(synth_app, name="synth")
