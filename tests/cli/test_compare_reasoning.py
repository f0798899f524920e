"""`harness compare` on a reasoning model against a plain one, through loopback servers, a real store
and the CLI: unfinished samples are counted apart from wrong ones, tokens per sample and per correct
answer, and cost from the models file's price per million tokens."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.data import Source
from harness.models import resolve
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from loopback_openai import Behaviour, LoopbackServer

ITEMS = get_task("arith").load(Source(limit=3))
K = 4


def gold(req):
    q = req["messages"][-1]["content"]
    return int(next(it.gold for it in ITEMS if it.fields["question"] in q))


def thinker(req, i):
    """Per item: right twice, wrong once, once cut off while thinking (its box is right: never credited)."""
    g = gold(req)
    return [
        {"content": f"<think>Multiply, subtract.</think>\\boxed{{{g}}}", "completion_tokens": 30, "reasoning_tokens": 20},
        {"content": f"<think>So far \\boxed{{{g}}}, checking", "finish_reason": "length", "completion_tokens": 50,
         "reasoning_tokens": 50},
        {"content": f"<think>Add.</think>\\boxed{{{g + 1}}}", "completion_tokens": 20, "reasoning_tokens": 10},
        {"content": f"<think>Multiply, subtract.</think>\\boxed{{{g}}}", "completion_tokens": 30, "reasoning_tokens": 20},
    ][i]


def plain(req, i):
    return {"content": f"\\boxed{{{gold(req)}}}", "completion_tokens": 5}


@pytest.fixture(scope="module")
def store_and_models(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cmp")
    db, models = tmp / "r.duckdb", tmp / "models.toml"
    with LoopbackServer(Behaviour(answer=thinker)) as t, LoopbackServer(Behaviour(answer=plain)) as p:
        models.write_text(f"""
[models.thinker]
backend = "openai"
model = "loopback-model"
base_url = "{t.url}"
price_per_mtok = {{ input = 1.0, output = 4.0 }}
[models.thinker.options]
backoff_s = 0.01
[models.plain]
backend = "openai"
model = "loopback-model"
base_url = "{p.url}"
[models.plain.options]
backoff_s = 0.01
""")
        for name in ("thinker", "plain"):
            run(resolve(name, models), [get_task("arith")], K, Store(db), Source(limit=len(ITEMS)), progress=False)
    return db, models


def compare(db, models, *args):
    argv = ["compare", "thinker", "vs", "plain", "--db", str(db), "--models", str(models), "--resamples", "200"]
    r = CliRunner(env={"COLUMNS": "200"}).invoke(app, [*argv, *args])
    assert r.exit_code == 0, r.output
    return r.output


def test_budget_in_json(store_and_models):
    db, models = store_and_models
    doc = json.loads(compare(db, models, "--format", "json"))
    (task,) = doc["tasks"]
    a, b = task["budget"]["a"], task["budget"]["b"]
    n = len(ITEMS) * K
    # unfinished apart from wrong: a quarter of the thinker's samples ran out of tokens thinking
    assert (a["n_samples"], a["n_correct"], a["n_wrong"], a["n_unfinished"]) == (n, n // 2, n // 4, n // 4)
    assert a["unfinished_rate"] == 0.25
    assert (a["completion_tokens"], a["thinking_tokens"]) == (130 * len(ITEMS), 100 * len(ITEMS))
    assert a["mean_tokens"] == 130 / K and a["tokens_per_correct"] == 130 / 2  # every sample's tokens, per right one
    # 11 prompt tokens per sample at 1.0 per million, generated ones at 4.0
    assert a["cost"] == pytest.approx((11 * n * 1.0 + 130 * len(ITEMS) * 4.0) / 1e6)
    assert a["cost_per_correct"] == pytest.approx(a["cost"] / (n // 2))
    assert (b["n_correct"], b["n_unfinished"], b["n_wrong"], b["tokens_per_correct"]) == (n, 0, 0, 5.0)
    assert b["thinking_tokens"] == 0 and b["cost"] is None and b["cost_per_correct"] is None  # no price given
    assert doc["overall"]["budget"] == task["budget"]


def test_budget_in_table(store_and_models):
    db, models = store_and_models
    out = compare(db, models)
    rows = {line.split("│")[2].strip(): [c.strip() for c in line.split("│")[1:-1]]
            for line in out.splitlines() if line.count("│") > 8 and "arith" in line and "tokens" not in line}
    assert rows["thinker"][2:] == ["12", "6", "3", "3 (25.0%)", "32", "76.9", "65", "0.001692", "0.000282"]
    assert rows["plain"][2:] == ["12", "12", "0", "0 (0.0%)", "5", "0.0", "5", "—", "—"]
    assert "unfinished" in out and "tokens per right" in out

    md = compare(db, models, "--format", "markdown")
    assert "| arith | thinker | 12 | 6 | 3 | 3 (25.0%) | 32 | 76.9 | 65 | 0.001692 | 0.000282 |" in md
