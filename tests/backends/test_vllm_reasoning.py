"""A reasoning model behind vLLM's reasoning parser, for real on this CPU (slow; skipped where vLLM is
not installed): `vllm serve --reasoning-parser deepseek_r1` on a tiny model with `<think>` tokens
and a DeepSeek-R1-distill-style template (tests/vllm_util.py trains it, in seconds, to think and
then answer), driven through the openai backend and the runner into a real store.

Proven here: the server splits the thinking into its `reasoning` field, and the backend stores it in
`generations.thinking` beside the answer, which alone is graded; a sample cut while thinking is
`unfinished`, not wrong; budget forcing against the real server closes thinking cut at its budget,
continues it (`continue_final_message`) to a graded answer and flags the sample `forced`. vLLM's
own count of thinking tokens is 0 for this template (it counts only thinking opened in the output),
so the backend's estimate from the characters is what is stored."""

from __future__ import annotations

import pytest

from harness.data import Source
from harness.grading.math import MathGrader
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.records import Item, Message, Prompt
from harness.store import Store
from harness.task import Task
from vllm_util import build_thinking_model, needs_vllm, serve

pytestmark = [pytest.mark.slow, needs_vllm]

# question -> (thinking, gold); the model writes "<thinking></think>The answer is <gold>."
QA = {"What is 3 + 4?": ("Add 3 and 4.", "7"), "What is 12 - 3?": ("Take 3 from 12.", "9")}
ITEMS = [Item(id=str(i), gold=gold, fields={"question": q}) for i, (q, (_, gold)) in enumerate(QA.items())]
TASK = Task(name="think_arith", version=1, kind="math", load=lambda source: ITEMS, grader=MathGrader,
            render=lambda item: Prompt(text=item.fields["question"],
                                       messages=(Message("user", item.fields["question"]),)),
            description="two questions the tiny thinking model has learnt (test task)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("vllm_reasoning")
    model = build_thinking_model(root / "thinker", {q: f"{t}</think>The answer is {g}." for q, (t, g) in QA.items()})
    with serve(model, root / "server.log", "--reasoning-parser", "deepseek_r1") as base:
        yield {"base": base, "model": str(model)}


def spec(server, max_tokens: int, **thinking: object) -> ModelSpec:
    return ModelSpec(name="thinker", backend="openai", model=server["model"], base_url=server["base"],
                     options={"max_retries": 2, "timeout_s": 300, "endpoint": "chat"},
                     sampling={"max_tokens": max_tokens, "temperature": 0.0}, thinking=dict(thinking))


def samples(store: Store, run_id: str) -> list[dict]:
    return store.query("""SELECT s.item_id, s.verdict, s.extracted, g.text, g.thinking, g.finish, g.tokens,
                                 g.thinking_tokens, g.forced
                          FROM scores s JOIN generations g USING (gen_key) WHERE s.run_id = ?
                          ORDER BY s.item_id, s.sample_index""", [run_id])


def test_the_reasoning_field_is_stored_as_thinking_and_only_the_answer_graded(server, tmp_path):
    store = Store(tmp_path / "r.duckdb")
    s = run(spec(server, 40), [TASK], 2, store, Source(), progress=False)
    rows = samples(store, s.run_id)
    assert [(r["item_id"], r["thinking"], r["text"], r["verdict"], r["extracted"]) for r in rows] == [
        (str(i), t, f"The answer is {g}.", "correct", g) for i, (t, g) in enumerate(QA.values()) for _ in range(2)]
    assert all(r["finish"] == "stop" and not r["forced"] for r in rows)
    # tokens from the server's usage; the thinking's share estimated (the server says 0)
    assert all(0 < r["thinking_tokens"] < r["tokens"] for r in rows)
    assert s.tasks[0].usage.thinking_tokens == sum(r["thinking_tokens"] for r in rows)


def test_thinking_cut_by_the_token_limit_is_unfinished(server, tmp_path):
    store = Store(tmp_path / "r.duckdb")
    s = run(spec(server, 3), [TASK], 1, store, Source(), progress=False)
    rows = samples(store, s.run_id)
    assert [(r["verdict"], r["finish"], r["text"]) for r in rows] == [("unfinished", "length", "")] * 2
    assert [r["thinking"] for r in rows] == ["Add 3", "Tak"]  # the first 3 tokens of each thinking
    assert s.tasks[0].n_unfinished == 2


def test_budget_forcing_against_the_server_closes_the_thinking_and_flags_it(server, tmp_path):
    store = Store(tmp_path / "r.duckdb")
    s = run(spec(server, 40, budget=3), [TASK], 1, store, Source(), progress=False)
    rows = samples(store, s.run_id)
    assert [(r["thinking"], r["forced"], r["finish"]) for r in rows] == [("Add 3", True, "stop"), ("Tak", True, "stop")]
    # continued after the closing tag for its answer, which alone is graded
    assert [(r["text"], r["verdict"]) for r in rows] == [("The answer is 7.", "correct"), ("The answer is 9.", "correct")]
