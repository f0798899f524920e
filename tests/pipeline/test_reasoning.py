"""Reasoning models: graded on the final answer, thinking stored, unfinished thinking never credited,
tokens of both parts counted. Golden split cases, then a loopback OpenAI-compatible server answering
like a reasoning model in each form (inline tags, a separate field, unfinished, no thinking)."""

from __future__ import annotations

import re

import pytest

from harness.data import Source
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from harness.thinking import ThinkingFormat, split
from loopback_openai import Behaviour, LoopbackServer

FAST = {"backoff_s": 0.01, "backoff_max_s": 0.05, "max_retries": 2, "timeout_s": 10}
R1 = ThinkingFormat(starts_open=True)
CUSTOM = ThinkingFormat("<reasoning>", "</reasoning>")

# (text, finish, separate field, format) -> (thinking, answer, unfinished)
SPLITS = [
    ("The answer is \\boxed{5}.", "stop", None, ThinkingFormat(), (None, "The answer is \\boxed{5}.", False)),
    ("<think>maybe \\boxed{4}</think>So \\boxed{5}.", "stop", None, ThinkingFormat(), ("maybe \\boxed{4}", "So \\boxed{5}.", False)),
    ("\n<think>a</think>b<think>c</think>final", "stop", None, ThinkingFormat(), ("a</think>b<think>c", "final", False)),
    ("<think>still going \\boxed{5}", "length", None, ThinkingFormat(), ("still going \\boxed{5}", "", True)),
    ("<think>stopped without closing \\boxed{5}", "stop", None, ThinkingFormat(), ("stopped without closing \\boxed{5}", "", True)),
    ("thinking from the template</think> \\boxed{5}", "stop", None, R1, ("thinking from the template", " \\boxed{5}", False)),
    ("thinking from the template \\boxed{5}", "length", None, R1, ("thinking from the template \\boxed{5}", "", True)),
    ("<reasoning>x</reasoning>y", "stop", None, CUSTOM, ("x", "y", False)),
    ("<think>x</think>y", "stop", None, ThinkingFormat("", ""), (None, "<think>x</think>y", False)),
    ("\\boxed{5}", "stop", "hmm \\boxed{4}", ThinkingFormat(), ("hmm \\boxed{4}", "\\boxed{5}", False)),
    ("", "length", "hmm \\boxed{5}", ThinkingFormat(), ("hmm \\boxed{5}", "", True)),
    ("", "stop", "hmm", ThinkingFormat(), ("hmm", "", False)),
]


@pytest.mark.parametrize("text, finish, field, fmt, want", SPLITS)
def test_split_golden(text, finish, field, fmt, want):
    s = split(text, finish, field, fmt)
    assert (s.thinking, s.answer, s.unfinished) == want


def gold_of(req):
    msgs = req.get("messages") or [{"content": req.get("prompt", "")}]
    q = msgs[-1]["content"]
    boxes, per, given = map(int, re.search(r"has (\d+) boxes with (\d+) .*gives away (\d+)", q).groups())
    return boxes * per - given


def reasoning_model(req, i):
    """Sample 0: a wrong box inside <think>, the right one after it. Sample 1: unclosed thinking with
    the right box, cut by the token limit. Sample 2: a separate reasoning field holding a wrong box,
    the right answer as content. Sample 3: only a reasoning field, cut off. Sample 4: no thinking."""
    g = gold_of(req)
    return [
        {"content": f"<think>First guess \\boxed{{{g + 1}}}. No, recheck.</think>The answer is \\boxed{{{g}}}.",
         "completion_tokens": 30},
        {"content": f"<think>I think it is \\boxed{{{g}}} but let me keep chec", "finish_reason": "length",
         "completion_tokens": 40},
        {"content": f"The answer is \\boxed{{{g}}}.", "reasoning_content": f"maybe \\boxed{{{g + 2}}}? no.",
         "completion_tokens": 25, "reasoning_tokens": 15},
        {"content": None, "reasoning": f"so far \\boxed{{{g}}} and", "finish_reason": "length",
         "completion_tokens": 40, "reasoning_tokens": 40},
        {"content": f"Plainly \\boxed{{{g}}}.", "completion_tokens": 5},
    ][i]


def test_reasoning_server_end_to_end(tmp_path):
    with LoopbackServer(Behaviour(answer=reasoning_model)) as srv:
        spec = ModelSpec("r", "openai", "loopback-model", base_url=srv.url, options=FAST)
        store = Store(tmp_path / "r.duckdb")
        s = run(spec, [get_task("arith")], 5, store, Source(limit=3), progress=False).tasks[0]
    rows = store.query("""SELECT s.item_id, s.sample_index, s.verdict, s.extracted, g.thinking, g.tokens,
                                 g.thinking_tokens, g.text
                          FROM scores s JOIN generations g USING (gen_key) ORDER BY item_id, sample_index""")
    by_sample = {}
    for r in rows:
        by_sample.setdefault(r["sample_index"], []).append(r)
    assert {r["verdict"] for r in by_sample[0]} == {"correct"}  # the box inside <think> is not the answer
    assert {r["verdict"] for r in by_sample[1]} == {"unfinished"}  # never credited, though its box is right
    assert {r["verdict"] for r in by_sample[2]} == {"correct"}
    assert {r["verdict"] for r in by_sample[3]} == {"unfinished"}
    assert {r["verdict"] for r in by_sample[4]} == {"correct"}
    assert all(r["extracted"] is None for r in by_sample[1] + by_sample[3])
    # thinking kept: inline in the raw text, the separate field in its own column with its token count
    assert all("<think>First guess" in r["text"] for r in by_sample[0])
    assert all(r["thinking"].startswith("maybe") and r["thinking_tokens"] > 0 for r in by_sample[2])
    assert all(r["thinking_tokens"] == 0 for r in by_sample[4])
    assert all(r["thinking"].startswith("so far") and r["text"] == "" for r in by_sample[3])
    assert (s.n_unfinished, s.pass_at_1, s.maj_at_k) == (6, 0.6, 1.0)
    # one request with n=5 per item: usage is per request, shared out over its choices (totals exact)
    assert s.usage.prompt_tokens == 15 * 11 and s.usage.completion_tokens == 3 * (30 + 40 + 25 + 40 + 5)
    assert s.usage.thinking_tokens == 3 * (15 + 40)
    task = store.task_results(store.latest_run("r", "arith"))[0]
    assert (task["n_unfinished"], task["completion_tokens"]) == (6, 420)
    item = store.item_results(task["run_id"])[0]
    assert (item["n"], item["n_correct"], item["n_unfinished"]) == (5, 3, 2)


def test_a_zero_reasoning_count_beside_a_thinking_text_is_estimated(tmp_path):
    """vLLM 0.32 with a template that opens the thinking in the prompt reports `reasoning_tokens: 0`
    beside a whole reasoning field (tests/backends/test_vllm_reasoning.py): not taken as 0."""
    def model(req, i):
        g = gold_of(req)
        return [{"content": f"The answer is \\boxed{{{g}}}.", "reasoning": "Multiply, then subtract the gift.",
                 "completion_tokens": 30, "reasoning_tokens": 0},
                {"content": f"Plainly \\boxed{{{g}}}.", "completion_tokens": 10, "reasoning_tokens": 0}][i]

    with LoopbackServer(Behaviour(answer=model)) as srv:
        spec = ModelSpec("r", "openai", "loopback-model", base_url=srv.url, options=FAST)
        store = Store(tmp_path / "r.duckdb")
        run(spec, [get_task("arith")], 2, store, Source(limit=1), progress=False)
    rows = store.query("SELECT s.sample_index, s.verdict, g.thinking_tokens FROM scores s JOIN generations g "
                       "USING (gen_key) ORDER BY s.sample_index")
    assert [r["verdict"] for r in rows] == ["correct", "correct"]
    think = rows[0]["thinking_tokens"]
    assert 0 < think < 30  # the thinking's share of the 30 tokens, by characters
    assert rows[1]["thinking_tokens"] == 0  # no thinking: the server's 0 stands
