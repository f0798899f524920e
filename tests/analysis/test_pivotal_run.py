"""Pivotal token search driven by rollouts: a fake backend whose world is known (one digit decides
the answer), the real wordmath grader as the oracle, a real DuckDB store. The known bugs of other
implementations each have a test here: the prompt sent twice, estimates shared across tasks, an
oracle that calls everything correct."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.analysis.pivotal_run import PivotalConfig, find_pivotal, with_prefix
from harness.analysis.preference import preference_lines
from harness.data import Source
from harness.errors import HarnessError
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.records import Grade, Message, Prompt, Sampling
from harness.store import Store
from harness.tasks import get_task
from fakes import FakeBackend
from pivotal_world import answers

SPEC = ModelSpec(name="fake", backend="hf", model="fake-model-id")
PARAMS = Sampling(max_tokens=64, temperature=0.8)
N_ITEMS = 4


def chars(text: str) -> tuple[str, ...]:
    return tuple(text)  # one character per token


def world(task, items, p_right: float = 0.5):
    return answers(task, items, p_right)


@pytest.fixture
def setup(tmp_path):
    task = get_task("wordmath")
    items = task.load_items(Source(limit=N_ITEMS))
    store = Store(tmp_path / "p.duckdb")
    backend = FakeBackend(world(task, items), batch_size=32)
    run(SPEC, [task], 4, store, Source(limit=N_ITEMS), backend_factory=lambda s: backend, progress=False,
        sampling={"temperature": 0.8, "max_tokens": 64})
    return store, task, items


def search(store, task, items, backend, **config):
    return find_pivotal(store, SPEC, task, items, chars, lambda: backend, PARAMS,
                        PivotalConfig(**{"rollouts": 128, **config}))


def test_finds_the_deciding_digit_and_stores_it(setup):
    store, task, items = setup
    report = search(store, task, items, FakeBackend(world(task, items), batch_size=512))
    assert report.search.n_in_band >= 1 and report.tokens
    for t in report.tokens:
        assert t.prefix.startswith(" So it is ") and t.prefix == " So it is " + t.prefix[len(" So it is "):]
        assert t.position == len(t.prefix) and t.token.isdigit()
        assert abs(t.delta) >= 0.2 and t.delta_low <= t.delta <= t.delta_high
        assert t.p_after in (0.0, 1.0)  # after the digit the rest is forced
    stored = store.pivotal_tokens(search_id=report.search.search_id)
    assert [(r["item_id"], r["sample"], r["position"]) for r in stored] == \
        [(t.item_id, t.sample, t.position) for t in report.tokens]
    row = store.pivotal_searches("fake")[0]
    assert row["n_pivotal"] == len(report.tokens) and row["rollouts"] > 0 and row["seconds"] >= 0
    curve = store.pivotal_prefixes(report.search.search_id, task.name, report.tokens[0].item_id,
                                   report.tokens[0].sample)
    assert curve[0]["position"] == 0 and curve[-1]["n"] == 0  # from the prompt to the sample's own verdict


def test_rollout_prompts_hold_the_prompt_once_and_a_prefix_of_a_sample(setup):
    store, task, items = setup
    backend = FakeBackend(world(task, items), batch_size=512)
    report = search(store, task, items, backend)
    bases = [task.render(it).text for it in items]
    texts = [r["text"] for r in store.run_samples(report.search.source_run_id, task.name)]
    seen = {text for call in backend.calls for text, _, _ in call}
    assert seen
    for text in seen:
        assert sum(text.count(b) for b in bases) == 1 and text.count("Question:") == 1
        base = next(b for b in bases if text.startswith(b))
        assert any(s.startswith(text[len(base):]) for s in texts)


def test_a_rerun_generates_nothing_and_a_crash_loses_one_batch(setup):
    store, task, items = setup
    first = search(store, task, items, FakeBackend(world(task, items), batch_size=512))
    quiet = FakeBackend(world(task, items), batch_size=512)
    again = search(store, task, items, quiet)
    assert quiet.calls == [] and again.search.generated == 0
    assert [(t.item_id, t.position, t.delta) for t in again.tokens] == [(t.item_id, t.position, t.delta) for t in first.tokens]

    # A new seed: fresh rollouts; the backend dies after two batches, the rerun makes only the rest.
    dying = FakeBackend(world(task, items), batch_size=64, die_after_batches=2)
    with pytest.raises(RuntimeError):
        find_pivotal(store, SPEC, task, items, chars, lambda: dying, replace(PARAMS, seed=5), PivotalConfig(rollouts=16))
    rest = FakeBackend(world(task, items), batch_size=64)
    done = find_pivotal(store, SPEC, task, items, chars, lambda: rest, replace(PARAMS, seed=5), PivotalConfig(rollouts=16))
    fresh = FakeBackend(world(task, items), batch_size=64)
    other_store = Store(store.path.with_name("other.duckdb"))
    run(SPEC, [task], 4, other_store, Source(limit=N_ITEMS), backend_factory=lambda s: FakeBackend(world(task, items), batch_size=512),
        progress=False, sampling={"temperature": 0.8, "max_tokens": 64})
    whole = find_pivotal(other_store, SPEC, task, items, chars, lambda: fresh, replace(PARAMS, seed=5),
                         PivotalConfig(rollouts=16))
    assert dying.generated == 128 and rest.generated == whole.search.generated - 128
    assert done.search.n_pivotal == whole.search.n_pivotal


def test_estimates_belong_to_the_task_even_where_rollouts_are_shared(setup):
    """Another task with the same prompts and other golds reuses the stored rollouts (the model's
    continuations do not depend on the task) but grades them with its own grader."""
    store, task, items = setup
    first = search(store, task, items, FakeBackend(world(task, items), batch_size=512))
    shifted_items = [replace(it, gold=str(int(it.gold) + 1)) for it in items]
    shifted = replace(task, name="wordmath-shifted", load=lambda source, **kw: shifted_items)
    run(SPEC, [shifted], 4, store, Source(limit=N_ITEMS), backend_factory=lambda s: FakeBackend(world(task, items), batch_size=512),
        progress=False, sampling={"temperature": 0.8, "max_tokens": 64})
    other = search(store, shifted, shifted_items, FakeBackend(world(task, items), batch_size=512))
    assert other.search.generated == 0
    p0 = {r["item_id"]: r["p"] for r in store.pivotal_prefixes(first.search.search_id) if r["position"] == 0}
    q0 = {r["item_id"]: r["p"] for r in store.pivotal_prefixes(other.search.search_id) if r["position"] == 0}
    assert q0 and all(q0[i] == pytest.approx(1 - p0[i]) for i in q0 if i in p0)


class AlwaysCorrect:
    def grade(self, batch):
        return [[Grade("1", "1", "correct", 0) for _ in responses] for _, responses in batch]

    def close(self):
        pass


def test_an_oracle_that_calls_everything_correct_is_refused(setup):
    store, task, items = setup
    backend = FakeBackend(world(task, items), batch_size=512)
    with pytest.raises(HarnessError, match="no oracle|stored sample"):
        search(store, replace(task, grader=AlwaysCorrect), items, backend)
    assert backend.calls == []


def test_items_outside_the_band_are_not_searched(setup):
    store, task, items = setup
    sure = FakeBackend(world(task, items, p_right=1.0), batch_size=512)
    report = search(store, task, items, sure, band=(0.2, 0.8))
    assert report.search.n_in_band == 0 and report.tokens == ()


def test_the_budget_stops_the_search_and_says_so(setup):
    store, task, items = setup
    report = search(store, task, items, FakeBackend(world(task, items), batch_size=512), max_rollouts=128 * N_ITEMS + 10)
    assert report.search.budget_hit and report.search.rollouts <= 128 * N_ITEMS + 10


def test_recheck_with_another_seed_keeps_the_signs(setup):
    store, task, items = setup
    report = search(store, task, items, FakeBackend(world(task, items), batch_size=512), recheck_seed=1)
    assert report.search.recheck_n == len(report.tokens) > 0
    assert report.search.recheck_agree == report.search.recheck_n
    assert all(t.recheck_delta is not None and (t.recheck_delta > 0) == (t.delta > 0) for t in report.tokens)


def test_pairs_prompt_is_the_prompt_plus_a_prefix_of_a_stored_sample(setup):
    store, task, items = setup
    report = search(store, task, items, FakeBackend(world(task, items), batch_size=512), rollouts=128)
    lines, summary = preference_lines(store, "fake", chat=False)
    assert lines and summary.pairs == len(lines)
    assert len({(x["prompt"], x["chosen"], x["rejected"]) for x in lines}) == len(lines)  # no pair twice
    assert summary.pivotal == len(report.tokens) == summary.pairs + summary.no_alternative + summary.duplicates
    texts = {(str(r["item_id"]), r["sample"]): r["text"] for r in store.run_samples(report.search.source_run_id, task.name)}
    gold = {it.id: it.gold for it in items}
    for line in lines:
        base = task.render(next(it for it in items if it.id == line["item_id"])).text
        assert line["prompt"] == base + line["prefix"]
        assert texts[(line["item_id"], line["sample"])].startswith(line["prefix"])
        assert line["chosen"] != line["rejected"] and line["chosen"] == gold[line["item_id"]][len(line["prefix"]) - len(" So it is ")]
        assert line["chosen_p"] > line["p_before"] > line["rejected_p"]
        assert {"model", "task", "item_id", "sample", "position", "p_before", "p_after", "n"} <= set(line)
    chat_lines, _ = preference_lines(store, "fake", chat=True)
    for line in chat_lines:
        assert line["prompt"][-1]["role"] == "user"
        assert line["chosen"][0]["content"] == line["prefix"] + next(x["chosen"] for x in lines
                                                                      if (x["item_id"], x["sample"]) == (line["item_id"], line["sample"]))


def test_with_prefix_continues_the_answer():
    plain = Prompt("Q: 2+2?\nA:")
    assert with_prefix(plain, "") is plain
    assert with_prefix(plain, " 4") == Prompt("Q: 2+2?\nA: 4")
    chat = Prompt("2+2?", (Message("user", "2+2?"),))
    got = with_prefix(chat, "It is")
    assert got.messages[-1] == Message("assistant", "It is") and got.messages[0] == Message("user", "2+2?")
    assert got.hash != chat.hash


def test_log_probabilities_steer_the_split_to_the_surprising_token(setup):
    """Where the model says which token surprised it, Subdivide splits there first: the same pivotal
    tokens for fewer estimated prefixes than splitting at the middle token."""
    store, task, items = setup

    def logprobs(prompt, pieces):  # all the surprise on the digits of the number after "is "
        text = "".join(pieces)
        at = text.index(" is ") + len(" is ")
        end = text.index(".", at)
        return [-5.0 if at <= sum(map(len, pieces[:i])) < end else -0.01 for i in range(len(pieces))]

    by_count = search(store, task, items, FakeBackend(world(task, items), batch_size=512))
    other = Store(store.path.with_name("lp.duckdb"))
    run(SPEC, [task], 4, other, Source(limit=N_ITEMS), backend_factory=lambda s: FakeBackend(world(task, items)),
        progress=False, sampling={"temperature": 0.8, "max_tokens": 64})
    by_mass = find_pivotal(other, SPEC, task, items, chars, lambda: FakeBackend(world(task, items), batch_size=512),
                           PARAMS, PivotalConfig(rollouts=128), logprobs=logprobs)
    import json

    assert json.loads(by_mass.search.params)["split"] == "logprob" and json.loads(by_count.search.params)["split"] == "count"
    assert [(t.item_id, t.sample, t.position) for t in by_mass.tokens] == [(t.item_id, t.sample, t.position) for t in by_count.tokens]
    assert by_mass.search.rollouts < by_count.search.rollouts


def test_the_searched_run_can_be_named_and_must_be_the_models(setup):
    store, task, items = setup
    first = store.latest_run("fake", task.name)
    run(SPEC, [task], 4, store, Source(limit=N_ITEMS), backend_factory=lambda s: FakeBackend(world(task, items)),
        progress=False, sampling={"temperature": 0.8, "max_tokens": 64, "seed": 3})
    assert store.latest_run("fake", task.name) != first
    report = find_pivotal(store, SPEC, task, items, chars, lambda: FakeBackend(world(task, items), batch_size=512),
                          PARAMS, PivotalConfig(rollouts=128), source_run=first)
    assert report.search.source_run_id == first
    with pytest.raises(HarnessError, match="no finished run"):
        find_pivotal(store, SPEC, task, items, chars, lambda: FakeBackend(world(task, items)), PARAMS,
                     PivotalConfig(rollouts=128), source_run="not-a-run")
