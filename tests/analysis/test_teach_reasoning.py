"""`teach` and `export-sft` on reasoning models, through a loopback server, a real store and the CLI:
unfinished thinking is never "the model knows it" evidence, and the export keeps or drops thinking."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.data import Source
from harness.errors import HarnessError
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from harness.analysis.teach import export_sft, queue_teachable, solved
from loopback_openai import Behaviour, LoopbackServer

FAST = {"backoff_s": 0.01, "backoff_max_s": 0.05, "max_retries": 2, "timeout_s": 10}
ITEMS = get_task("arith").load(Source(limit=4))
K = 4


def item_of(req):
    q = (req.get("messages") or [{"content": req.get("prompt", "")}])[-1]["content"]
    (j,) = [j for j, it in enumerate(ITEMS) if it.fields["question"] in q]
    return j, int(ITEMS[j].gold)


def unfinished(g):  # the right box, but thinking cut off by the token limit: no answer given
    return {"content": f"<think>It is \\boxed{{{g}}}", "finish_reason": "length", "completion_tokens": 50}


def wrong(g):
    return {"content": f"<think>Hmm.</think>The answer is \\boxed{{{g + 1}}}.", "completion_tokens": 20}


def student(req, i):
    """Item 0: right only in unfinished thinking. Item 1: one finished right answer among unfinished
    ones (a 'majority' of one vote). Item 2: always wrong. Item 3: always right."""
    j, g = item_of(req)
    if j == 0:
        return unfinished(g) if i == 0 else wrong(g)
    if j == 1:
        return {"content": f"<think>Count the boxes, then subtract.</think>So \\boxed{{{g}}}.",
                "completion_tokens": 30} if i == 0 else unfinished(g)
    if j == 2:
        return wrong(g)
    return {"content": f"<think>Easy.</think>\\boxed{{{g}}}", "completion_tokens": 10}


def teacher(req, i):
    """Item 0: right in one finished sample, otherwise unfinished (unreliable). Items 1-3: reliably
    right, thinking in a separate field."""
    j, g = item_of(req)
    if j == 0 and i > 0:
        return unfinished(g)
    return {"content": f"\n\nThe answer is \\boxed{{{g}}}.", "reasoning_content": f"multiply, subtract: {g}",
            "completion_tokens": 25, "reasoning_tokens": 10}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("teach") / "r.duckdb"
    store = Store(path)
    for name, answer in (("small", student), ("big", teacher)):
        with LoopbackServer(Behaviour(answer=answer)) as srv:
            spec = ModelSpec(name, "openai", "loopback-model", base_url=srv.url, options=FAST)
            run(spec, [get_task("arith")], K, store, Source(limit=len(ITEMS)), progress=False)
    return path


def test_unfinished_samples_are_not_evidence(db, tmp_path):
    store = Store(db)
    (rep,) = queue_teachable(store, "small", teacher="big")
    queued = {q["item_id"]: (q["reason"], q["pass_rate"], q["teacher_pass_rate"]) for q in store.queue("small")}
    # item 0: its only right-looking sample is unfinished, and the teacher is right once in 4: not taught
    # item 1: one right answer outvoted by unfinished samples is not "solved": taught from its own sample
    # item 2: the teacher's finished answers make it teachable; item 3: solved
    assert queued == {"1": ("own_samples", 0.25, 1.0), "2": ("teacher", 0.0, 1.0)}
    assert (rep.own_samples, rep.teacher) == (1, 1)

    # A store graded before thinking was split off holds unfinished samples as "correct": the export
    # splits again and still never teaches from them.
    shutil.copy(db, tmp_path / "stale.duckdb")
    store = Store(tmp_path / "stale.duckdb")
    store.query("UPDATE scores SET verdict = 'correct' WHERE verdict = 'unfinished'")
    out = tmp_path / "sft.jsonl"
    assert export_sft(store, "small", out) == 2
    by_id = {x["item_id"]: x for x in map(json.loads, out.read_text().splitlines())}
    assert by_id["1"]["source"] == "own"
    assert by_id["1"]["messages"][-1]["content"] == (
        f"<think>Count the boxes, then subtract.</think>So \\boxed{{{ITEMS[1].gold}}}.")


def cli_export(db, out, *extra):
    return CliRunner().invoke(app, ["export-sft", "--model", "small", "--all", "--out", str(out), "--db", str(db),
                                    *extra], catch_exceptions=True)


def test_export_keeps_or_drops_thinking(db, tmp_path):
    queue_teachable(Store(db), "small", teacher="big")
    turns = {}
    for mode in ("keep", "drop", None):
        out = tmp_path / f"{mode}.jsonl"
        r = cli_export(db, out, *(("--thinking", mode) if mode else ()))
        assert r.exit_code == 0, r.output
        turns[mode] = {x["item_id"]: x["messages"][-1]["content"] for x in map(json.loads, out.read_text().splitlines())}
    g1, g2 = ITEMS[1].gold, ITEMS[2].gold
    assert turns["keep"] == {"1": f"<think>Count the boxes, then subtract.</think>So \\boxed{{{g1}}}.",
                             # the teacher's separate reasoning field, put between the default tags
                             "2": f"<think>multiply, subtract: {g2}</think>\n\nThe answer is \\boxed{{{g2}}}."}
    assert turns["drop"] == {"1": f"So \\boxed{{{g1}}}.", "2": f"The answer is \\boxed{{{g2}}}."}
    assert turns[None] == turns["keep"]  # the documented default

    r = cli_export(db, tmp_path / "x.jsonl", "--thinking", "summarize")
    assert isinstance(r.exception, HarnessError) and "keep, drop" in str(r.exception)  # `harness` exits 2
    assert not (tmp_path / "x.jsonl").exists()
    help_text = CliRunner().invoke(app, ["export-sft", "--help"], terminal_width=200).output
    assert "--thinking" in help_text and "keep (default" in help_text


@pytest.mark.parametrize("maj, n_correct, n_unfinished, want", [
    (True, 1, 3, False),   # one vote among unfinished samples is not a solved item
    (True, 3, 3, False),
    (True, 4, 3, True),
    (True, 2, 0, True),    # no unfinished samples: the majority rule as it always was
    (False, 0, 5, False),
])
def test_solved_by_majority(maj, n_correct, n_unfinished, want):
    assert solved({"maj_correct": maj, "n_correct": n_correct, "n_unfinished": n_unfinished}) is want
