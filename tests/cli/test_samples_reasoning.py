"""`harness samples` on a reasoning model (a loopback server, a real store, the CLI): the thinking is
folded to its length in the table, whole in JSONL, with its token count."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from harness.cli.app import app
from harness.data import Source
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from loopback_openai import Behaviour, LoopbackServer

(ITEM,) = get_task("arith").load(Source(limit=1))
LONG = "Let me count the boxes one by one. " * 20  # 700 characters of thinking


def model(req, i):
    g = ITEM.gold
    return [
        {"content": f"<think>{LONG}</think>The answer is \\boxed{{{g}}}.", "completion_tokens": 60,
         "reasoning_tokens": 50},
        {"content": f"<think>{LONG}still counting", "finish_reason": "length", "completion_tokens": 64,
         "reasoning_tokens": 64},
        {"content": f"So \\boxed{{{g}}}.", "reasoning_content": "short separate thought", "completion_tokens": 10,
         "reasoning_tokens": 5},
    ][i]


def test_samples_fold_thinking(tmp_path):
    db = tmp_path / "r.duckdb"
    with LoopbackServer(Behaviour(answer=model)) as srv:
        spec = ModelSpec("r", "openai", "loopback-model", base_url=srv.url, options={"backoff_s": 0.01})
        run_id = run(spec, [get_task("arith")], 3, Store(db), Source(limit=1), progress=False).run_id
    cli = CliRunner(env={"COLUMNS": "100"})
    lines = cli.invoke(app, ["samples", "--run", run_id, "--db", str(db), "--json"]).stdout.splitlines()
    rows = [json.loads(x) for x in lines]
    assert [r["verdict"] for r in rows] == ["correct", "unfinished", "correct"]
    assert rows[0]["thinking"] == LONG and rows[0]["text"].startswith("<think>")  # whole thinking, raw text
    assert rows[1]["thinking"] == LONG + "still counting"
    assert rows[2]["thinking"] == "short separate thought"
    # one request for the three: the server's total is shared out over them
    assert sum(r["thinking_tokens"] for r in rows) == 50 + 64 + 5 and all(r["thinking_tokens"] for r in rows)

    table = cli.invoke(app, ["samples", "--run", run_id, "--db", str(db)])
    assert table.exit_code == 0, table.output
    assert LONG.strip() not in table.stdout  # folded
    assert f"thinking: 700 chars, {rows[0]['thinking_tokens']} tokens, closed" in table.stdout
    assert f"thinking: 714 chars, {rows[1]['thinking_tokens']} tokens, never closed" in table.stdout
    assert "unfinished" in table.stdout and "(no answer)" in table.stdout
    assert f"The answer is \\boxed{{{ITEM.gold}}}." in table.stdout
    full = cli.invoke(app, ["samples", "--run", run_id, "--db", str(db), "--thinking"]).stdout
    assert "Let me count the boxes one by one." in full and "short separate thought" in full
