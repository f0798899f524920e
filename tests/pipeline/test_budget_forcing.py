"""Budget forcing on the openai backend, through a loopback server answering like a reasoning model,
the runner and a real store: thinking cut at the budget is closed and continued for the answer, and
such a sample is flagged `forced` in the store, `harness samples` and compare's budget table."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from harness.analysis.results import load_results
from harness.cli.app import app
from harness.data import Source
from harness.errors import BackendError
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from loopback_openai import Behaviour, LoopbackServer

BUDGET, MAX = 20, 100
FAST = {"backoff_s": 0.01, "backoff_max_s": 0.05, "max_retries": 2, "timeout_s": 10}


def gold_of(text):
    boxes, per, given = map(int, re.search(r"has (\d+) boxes with (\d+) .*gives away (\d+)", text).groups())
    return boxes * per - given


def so_far(req):
    """(the question, the text generated so far when this is a continuation, else None)."""
    if "messages" in req:
        msgs = req["messages"]
        if msgs[-1]["role"] == "assistant":
            return msgs[-2]["content"], msgs[-1]["content"]
        return msgs[-1]["content"], None
    prompt = req["prompt"]
    cut = prompt.find("<think>")
    return (prompt, None) if cut < 0 else (prompt[:cut], prompt[cut:])


def reasoning_model(req, i):
    """Sample 0 closes its thinking within the budget. Sample 1 is cut while thinking (a wrong box in
    it). Sample 2 is cut in its answer, after the thinking closed. Sample 3 thinks in a separate
    field and is cut there. A continuation answers right."""
    question, prefix = so_far(req)
    g = gold_of(question)
    if prefix is not None:
        return {"content": f" \\boxed{{{g}}}.", "completion_tokens": 5}
    assert req["max_tokens"] == BUDGET
    return [
        {"content": f"<think>Easy.</think>\\boxed{{{g}}}", "completion_tokens": 8},
        {"content": f"<think>Maybe \\boxed{{{g + 1}}}, let me check that again and", "finish_reason": "length",
         "completion_tokens": BUDGET},
        {"content": "<think>Done.</think>The answer is", "finish_reason": "length", "completion_tokens": BUDGET},
        {"content": None, "reasoning_content": "thinking apart, at length", "finish_reason": "length",
         "completion_tokens": BUDGET, "reasoning_tokens": BUDGET},
    ][i]


def spec(url, endpoint, budget=BUDGET, name="r"):
    return ModelSpec(name, "openai", "loopback-model", base_url=url, options={**FAST, "endpoint": endpoint},
                     sampling={"max_tokens": MAX}, thinking={} if budget is None else {"budget": budget})


@pytest.mark.parametrize("endpoint", ["completions", "chat"])
def test_thinking_cut_at_the_budget_is_closed_and_answered(tmp_path, endpoint):
    store = Store(tmp_path / "r.duckdb")
    with LoopbackServer(Behaviour(answer=reasoning_model)) as srv:
        s = run(spec(srv.url, endpoint), [get_task("arith")], 4, store, Source(limit=2), progress=False).tasks[0]
        reqs = srv.behaviour.requests
    rows = store.query("""SELECT s.item_id, s.sample_index, s.verdict, g.text, g.thinking, g.finish, g.tokens,
                                 g.prompt_tokens FROM scores s JOIN generations g USING (gen_key)
                          ORDER BY s.item_id, s.sample_index""")
    assert {r["verdict"] for r in rows} == {"correct"} and s.n_unfinished == 0  # each answer graded, none cut
    by = {(r["item_id"], r["sample_index"]): r for r in rows}
    g = int(get_task("arith").load(Source(limit=1))[0].gold)
    first = by[("0", 1)]
    assert first["text"] == f"<think>Maybe \\boxed{{{g + 1}}}, let me check that again and</think> \\boxed{{{g}}}."
    assert (first["finish"], by[("0", 2)]["text"]) == ("stop", f"<think>Done.</think>The answer is \\boxed{{{g}}}.")
    assert (by[("0", 3)]["thinking"], by[("0", 3)]["text"]) == ("thinking apart, at length", f" \\boxed{{{g}}}.")
    assert by[("0", 0)]["text"] == f"<think>Easy.</think>\\boxed{{{g}}}"  # within budget: not continued
    # both requests' tokens are the sample's; generated tokens in all: 8 + 3 * (BUDGET + 5) per item
    assert s.usage.completion_tokens == 2 * (8 + 3 * (BUDGET + 5))
    assert first["prompt_tokens"] == 11 + 11

    firsts = [r for r in reqs if so_far(r)[1] is None]
    conts = [r for r in reqs if so_far(r)[1] is not None]
    assert len(firsts) == 2 and all(r["max_tokens"] == BUDGET and r["n"] == 4 for r in firsts)
    assert len(conts) == 6 and all(r["max_tokens"] == MAX - BUDGET and r["n"] == 1 for r in conts)
    prefixes = sorted(so_far(r)[1] for r in conts if gold_of(so_far(r)[0]) == g)
    assert prefixes == sorted([
        "<think>Done.</think>The answer is",  # thinking closed: continued as it stands
        f"<think>Maybe \\boxed{{{g + 1}}}, let me check that again and</think>",  # closed for it
        "<think>thinking apart, at length</think>",  # the separate field, back between the tags
    ])
    if endpoint == "chat":
        assert all(r["continue_final_message"] is True and r["add_generation_prompt"] is False for r in conts)
    # forced: the thinking was closed for the sample (1: inline, 3: the separate field), not for 2
    # (its thinking closed within the budget; only its answer was continued) nor 0
    forced = store.query("SELECT s.sample_index, g.forced FROM scores s JOIN generations g USING (gen_key) "
                         "WHERE s.item_id = '0' ORDER BY s.sample_index")
    assert [r["forced"] for r in forced] == [False, True, False, True]


def test_forced_samples_are_shown_by_samples_and_counted_by_compare(tmp_path):
    db = tmp_path / "r.duckdb"
    store = Store(db)
    with LoopbackServer(Behaviour(answer=reasoning_model)) as srv:
        forced_run = run(spec(srv.url, "completions"), [get_task("arith")], 4, store, Source(limit=2),
                         progress=False).run_id
        srv.behaviour.answer = lambda req, i: reasoning_model({**req, "max_tokens": BUDGET}, i)
        run(spec(srv.url, "completions", None, name="free"), [get_task("arith")], 4, store, Source(limit=2),
            progress=False)
        again = run(spec(srv.url, "completions"), [get_task("arith")], 4, store, Source(limit=2), progress=False)
    assert again.tasks[0].reused == 8  # the flag comes back with the cache: a rerun's samples are still forced
    latest = load_results(store, "r", tasks=["arith"])
    assert latest.runs["arith"].run_id == again.run_id and latest.outcomes[("arith", "0")].n_forced == 2

    cli = CliRunner(env={"COLUMNS": "200"})
    rows = [json.loads(x) for x in cli.invoke(app, ["samples", "--run", forced_run, "--db", str(db), "--json"]
                                              ).stdout.splitlines()]
    assert [r["forced"] for r in rows] == [False, True, False, True] * 2
    table = cli.invoke(app, ["samples", "--run", forced_run, "--db", str(db)]).stdout
    assert table.count("(forced: thinking closed at its budget)") == 4
    assert "closed at the budget" in table

    out = cli.invoke(app, ["compare", "r", "vs", "free", "--db", str(db), "--format", "json"])
    assert out.exit_code == 0, out.output
    budget = json.loads(out.stdout)["tasks"][0]["budget"]
    assert (budget["a"]["n_forced"], budget["b"]["n_forced"]) == (4, 0)
    md = cli.invoke(app, ["compare", "r", "vs", "free", "--db", str(db), "--format", "markdown"]).stdout
    head = next(x for x in md.splitlines() if x.startswith("| task | model | samples"))
    assert "| unfinished | forced |" in head
    assert "| arith | r | 8 | 8 | 0 | 0 (0.0%) | 4 (50.0%) |" in md


def test_without_a_budget_the_cut_thinking_stays_unfinished(tmp_path):
    def model(req, i):
        return reasoning_model({**req, "max_tokens": BUDGET}, i)  # the same outputs, unforced

    with LoopbackServer(Behaviour(answer=model)) as srv:
        s = run(spec(srv.url, "completions", None), [get_task("arith")], 4, Store(tmp_path / "r.duckdb"),
                Source(limit=2), progress=False).tasks[0]
        assert all(r["max_tokens"] == MAX for r in srv.behaviour.requests) and len(srv.behaviour.requests) == 2
    assert s.n_unfinished == 4  # samples 1 and 3 of each item; sample 2 is graded on "The answer is"


def test_budget_is_part_of_the_identity_and_needs_a_close_tag():
    url = "http://127.0.0.1:9/v1"
    assert spec(url, "chat").fingerprint() != spec(url, "chat", None).fingerprint()
    assert spec(url, "chat", 30).fingerprint() != spec(url, "chat").fingerprint()
    from harness.backends.openai import OpenAIBackend

    bad = ModelSpec("r", "openai", "m", base_url=url, thinking={"budget": 5, "open": "", "close": ""})
    with pytest.raises(BackendError, match="closing tag"):
        OpenAIBackend(bad)
    from harness.backends.vllm import VLLMBackend  # vllm itself is imported only when the engine starts

    with pytest.raises(BackendError, match="openai backend"):  # not silently ignored
        VLLMBackend(ModelSpec("r", "vllm", "m", thinking={"budget": 5}))
