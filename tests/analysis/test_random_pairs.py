"""Pairs cut at random positions of the samples a pivotal search used (the control of the loop's DPO
arms): a fake backend whose answers branch at filler words and are decided by one number, the real
wordmath grader, a real DuckDB store."""

from __future__ import annotations

import random
import re

import pytest

from harness.analysis.pivotal_run import PivotalConfig, find_pivotal
from harness.analysis.preference import preference_lines
from harness.analysis.random_pairs import draw_position, other_token_pair, plan_positions, random_position_pairs
from harness.data import Source
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.records import Sampling
from harness.store import Store
from harness.tasks import get_task
from fakes import FakeBackend

SPEC = ModelSpec(name="fake", backend="hf", model="fake-model-id")
PARAMS = Sampling(max_tokens=64, temperature=0.8)
N_ITEMS = 4
FILLERS = ((" So", " Thus"), (" it", " that"), (" is", " makes"))


def words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\s*\S+", text))


def world(task, items):
    """`<so|thus> <it|that> <is|makes> X. The answer is X.` with X the gold or gold + 1 (even odds):
    the filler words branch without deciding anything, the number decides."""
    golds = {task.render(it).text: int(it.gold) for it in items}

    def answer(text: str, rng: random.Random) -> str:
        base = next(b for b in golds if text.startswith(b))
        have, g = words(text[len(base):]), golds[base]
        fill = [have[j] if j < len(have) else rng.choice(pair) for j, pair in enumerate(FILLERS)]
        x = int(have[3].strip().rstrip(".")) if len(have) > 3 else g if rng.random() < 0.5 else g + 1
        full = (*fill, f" {x}.", " The", " answer", " is", f" {x}.")
        return "".join(full[len(have):]) or " ?"

    return answer


@pytest.fixture
def searched(tmp_path):
    task = get_task("wordmath")
    items = task.load_items(Source(limit=N_ITEMS))
    store = Store(tmp_path / "p.duckdb")
    run(SPEC, [task], 4, store, Source(limit=N_ITEMS), backend_factory=lambda s: FakeBackend(world(task, items), batch_size=64),
        progress=False, sampling={"temperature": 0.8, "max_tokens": 64})
    report = find_pivotal(store, SPEC, task, items, words, lambda: FakeBackend(world(task, items), batch_size=512),
                          PARAMS, PivotalConfig(rollouts=64))
    lines, _ = preference_lines(store, "fake", chat=False, search_id=report.search.search_id)
    assert lines, "the fake world has pivotal numbers"
    return store, task, {it.id: it for it in items}, report, lines


def make(searched, seed, backend=None):
    store, task, items, report, lines = searched
    task_items = list(items.values())
    backend = backend or FakeBackend(world(task, task_items), batch_size=512)
    pivots: dict = {}
    for t in report.tokens:
        pivots.setdefault((t.item_id, t.sample), set()).add(t.position)
    return random_position_pairs(store, SPEC, task, items, lines, words, lambda: backend, PARAMS, 64, seed=seed,
                                 chat=False, pivotal_positions=pivots)


def test_draw_position_never_draws_an_excluded_one():
    rng = random.Random(0)
    assert {draw_position(5, {1, 3}, rng) for _ in range(200)} == {0, 2, 4}
    assert draw_position(3, {0, 1, 2}, rng) is None


def test_plan_positions_cuts_each_target_once_and_moves_on_when_a_sample_is_used_up():
    lengths = {("a", 0): 3, ("b", 1): 5}
    excluded = {("a", 0): {1}}
    plan = plan_positions([("a", 0)] * 4, lengths, excluded, random.Random(1))
    a = [p for k, p in plan if k == ("a", 0)]
    assert sorted(a) == [0, 2] and len(plan) == 4  # two free places in a, then b
    assert all(k == ("b", 1) for k, _ in plan[2:]) and len({p for k, p in plan if k == ("b", 1)}) == 2
    assert excluded[("a", 0)] == {0, 1, 2}
    # nothing left anywhere: the remaining targets are dropped
    assert len(plan_positions([("a", 0)] * 9, lengths, excluded, random.Random(1))) == 3
    # the same seed, the same plan
    fresh = lambda: plan_positions([("b", 1)] * 3, {("b", 1): 9}, {}, random.Random(7))  # noqa: E731
    assert fresh() == fresh()


def test_other_token_pair_orders_by_the_estimates_and_tosses_a_coin_on_ties():
    nxt = [(" a", 5, 1), (" b", 5, 4), (" c", 2, 2)]
    p = other_token_pair(" a", 0.2, nxt, random.Random(0))  # " b": most rollouts besides " a" (tie: the token)
    assert (p.chosen, p.rejected, p.chosen_p, p.rejected_p, p.alternative_n) == (" b", " a", 0.8, 0.2, 5)
    p = other_token_pair(" b", 0.9, nxt, random.Random(0))
    assert (p.chosen, p.rejected) == (" b", " a")
    sides = {other_token_pair(" c", 0.2, nxt, random.Random(s)).chosen for s in range(20)}
    assert sides == {" a", " c"}  # equal estimates: either way, by the seeded coin
    assert other_token_pair(" a", 0.5, [(" a", 8, 4)], random.Random(0)) is None


def test_random_pairs_mirror_the_pivotal_pairs_in_number_and_samples_but_not_in_place(searched):
    store, task, items, report, lines = searched
    pairs, rep = make(searched, seed=0)
    assert rep.wanted == len(lines) and len(pairs) == len(lines) and rep.pairs == len(pairs)
    pivotal = {(t.item_id, t.sample, t.position) for t in report.tokens}
    samples = {(str(r["item_id"]), int(r["sample"])): r["text"] for r in store.run_samples(report.search.source_run_id)}
    searched_samples = {(line["item_id"], line["sample"]) for line in lines}
    for p in pairs:
        key = (p["item_id"], p["sample"])
        assert key in searched_samples and (key + (p["position"],)) not in pivotal
        text = samples[key]
        assert p["prefix"] == "".join(words(text)[:p["position"]]) and p["token"] == words(text)[p["position"]]
        assert p["prompt"] == task.render(items[p["item_id"]]).text + p["prefix"]
        assert p["chosen"] != p["rejected"] and p["token"] in (p["chosen"], p["rejected"])
        assert p["cut"] == "random" and p["rule"] in ("pair_of", "most_rollouts") and p["source_run_id"] == report.search.source_run_id and p["n"] == 64
        assert p["token"].strip() in {w.strip() for pair in FILLERS for w in pair}  # the only other branches
    assert len({(p["prompt"], p["chosen"], p["rejected"]) for p in pairs}) == len(pairs)


def test_random_pairs_are_seeded_and_a_rerun_generates_nothing(searched):
    first, _ = make(searched, seed=0)
    quiet = FakeBackend(batch_size=512)
    again, rep = make(searched, seed=0, backend=quiet)
    assert quiet.calls == [] and rep.generated == 0
    strip = lambda ps: [{k: v for k, v in p.items() if k != "rollout_run_id"} for p in ps]  # noqa: E731
    assert strip(again) == strip(first)
    other, _ = make(searched, seed=1)
    assert [(p["item_id"], p["sample"], p["position"]) for p in other] != \
        [(p["item_id"], p["sample"], p["position"]) for p in first]
