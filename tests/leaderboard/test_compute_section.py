"""The Small vs large page's Compute section through Streamlit's AppTest, on a store made by the real
run loop with scripted backends whose token counts are known, checked against `harness compare`'s
own budget (the CLI's reading of the same runs).

arith items 0-9, k = 2 (20 samples per run):
- "tiny" (0.5B): an older run (seed 0, 30 tokens a sample, every answer wrong), then the latest
  (seed 1): 10 tokens a sample, items 0-7 right, 8-9 wrong. maj@k 80; 200 tokens / 16 right = 12.5.
- "thinker" (7B): a separate thinking field; items 0-8 answer right in 100 tokens, 80 of them
  thinking; item 9 never stops thinking (200 tokens, all thinking, finish "length": unfinished).
  maj@k 90; 2,200 tokens: 110 a sample, 2200 / 18 = 122.2 per right one, 1,840 thinking (83.6%),
  2 of 20 unfinished (10%).
- "priced" (70B), price_per_mtok input 1.0, output 4.0: every sample right, 50 prompt and 40
  generated tokens: 1,000 * 1 / 1e6 + 800 * 4 / 1e6 = $0.0042 a run, $0.00021 per right sample.
- "mute" (no parameter count): every sample right, no token counts reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from harness.tasks.arith import ARITH
from leaderboard_seed import ALL_ITEMS, _item_index
from test_answer_pages import chart_data
from test_leaderboard_pages import app, texts

from harness.analysis.compare import Budget
from harness.analysis.results import load_results, price_per_mtok
from harness.data import Source
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.records import Completion, Request, Sampling
from harness.store import Store

K = 2
TINY = ModelSpec(name="tiny", backend="hf", model="fake/tiny", params_b=0.5, family="t")
THINKER = ModelSpec(name="thinker", backend="hf", model="fake/thinker", params_b=7.0, family="t")
PRICED = ModelSpec(name="priced", backend="hf", model="fake/priced", params_b=70.0, family="t",
                   price_per_mtok={"input": 1.0, "output": 4.0})
MUTE = ModelSpec(name="mute", backend="hf", model="fake/mute")

Answer = Callable[[int, int], Completion]  # (item index, gold) -> one sample


class Backend:
    name = "scripted"
    batch_size = 16

    def __init__(self, answer: Answer):
        self.answer = answer

    def generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]:
        out = []
        for req in requests:
            i = _item_index(req.prompt.text)
            out.append([self.answer(i, int(ALL_ITEMS[i].gold)) for _ in req.indices])
        return out

    def close(self) -> None:
        pass


def tiny_old(i: int, gold: int) -> Completion:
    return Completion(f"The answer is {gold + 1}", "stop", 30, prompt_tokens=20)


def tiny(i: int, gold: int) -> Completion:
    return Completion(f"The answer is {gold if i < 8 else gold + 1}", "stop", 10, prompt_tokens=20)


def thinker(i: int, gold: int) -> Completion:
    if i == 9:
        return Completion("", "length", 200, prompt_tokens=20, thinking="Hmm, " * 50, thinking_tokens=200)
    return Completion(f"The answer is {gold}", "stop", 100, prompt_tokens=20, thinking="Multiply first.",
                      thinking_tokens=80)


def priced(i: int, gold: int) -> Completion:
    return Completion(f"The answer is {gold}", "stop", 40, prompt_tokens=50)


def mute(i: int, gold: int) -> Completion:
    return Completion(f"The answer is {gold}", "stop")


def _run(store: Store, spec: ModelSpec, answer: Answer, seed: int = 0) -> None:
    run(spec, [ARITH], K, store, Source(limit=10), sampling={"seed": seed},
        backend_factory=lambda s: Backend(answer), progress=False)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("compute") / "compute.duckdb"
    store = Store(path)
    _run(store, TINY, tiny_old, seed=0)
    _run(store, TINY, tiny, seed=1)
    _run(store, THINKER, thinker)
    _run(store, PRICED, priced)
    _run(store, MUTE, mute)
    return path


def compute_table(at):
    return next(d.value for d in at.dataframe if "tokens_per_correct" in d.value.columns).set_index("model")


def test_compute_shows_tokens_thinking_unfinished_and_cost_per_model(store_path, monkeypatch):
    at = app(store_path, monkeypatch, "size")
    assert "Compute" in [s.value for s in at.subheader]
    t = compute_table(at)
    assert t.index.tolist() == ["tiny", "thinker", "priced", "mute"]  # smallest first, unknown size last
    assert t.loc["tiny", ["maj_at_k", "samples", "mean_tokens", "tokens_per_correct", "unfinished_rate"]].tolist() == [
        80.0, 20.0, 10.0, 12.5, 0.0]  # the latest run, not the older 30-token one
    assert t.loc["thinker", ["maj_at_k", "mean_tokens", "thinking_share", "unfinished_rate"]].tolist() == [
        90.0, 110.0, 83.6, 10.0]
    assert t.loc["thinker", "tokens_per_correct"] == pytest.approx(2200 / 18)
    assert t.loc["priced", ["maj_at_k", "mean_tokens", "tokens_per_correct"]].tolist() == [100.0, 40.0, 40.0]
    assert t.loc["priced", "cost"] == pytest.approx(0.0042)
    assert t.loc["priced", "cost_per_correct"] == pytest.approx(0.00021)
    assert t[["cost", "cost_per_correct"]].drop(index="priced").isna().all().all()  # no price, no cost
    assert t.loc["mute", ["maj_at_k", "samples", "unfinished_rate"]].tolist() == [100.0, 20.0, 0.0]
    assert t.loc["mute", ["mean_tokens", "tokens_per_correct", "thinking_share"]].isna().all()  # not counted
    assert "forced" not in t.columns  # no sample's thinking was closed at a budget
    # the same budget as `harness compare` reads it through the CLI's store path
    cli = load_results(Store(store_path), "priced")
    b = Budget.of(list(cli.outcomes.values()), cli.price)
    assert (b.cost, b.cost_per_correct, b.tokens_per_correct) == pytest.approx(
        (t.loc["priced", "cost"], t.loc["priced", "cost_per_correct"], t.loc["priced", "tokens_per_correct"]))


def test_accuracy_against_tokens_is_plotted_one_labelled_point_per_model(store_path, monkeypatch):
    at = app(store_path, monkeypatch, "size")
    plotted = [d for c in chart_data(at) for d in c if "mean_tokens" in d.columns]
    assert len(plotted) == 1
    points = plotted[0].set_index("model")
    assert sorted(points.index) == ["priced", "thinker", "tiny"]  # "mute" has no token counts to plot
    assert points.loc[["tiny", "thinker", "priced"], ["mean_tokens", "maj_at_k"]].values.tolist() == [
        [10.0, 80.0], [110.0, 90.0], [40.0, 100.0]]
    spec = at.get("vega_lite_chart")[-1].proto.spec
    assert '"type": "log"' in spec or '"type":"log"' in spec
    assert '"text"' in spec  # labelled
    assert "No model's samples" not in texts(at)


def test_price_is_read_from_the_models_file_first_then_the_recorded_spec(tmp_path):
    assert price_per_mtok("unlisted", '{"price_per_mtok": {"output": 2}}') == {"output": 2.0}
    for spec in (None, "", "not json", "[1]", '{"price_per_mtok": "cheap"}', '{"name": "x"}'):
        assert price_per_mtok("unlisted", spec) is None, spec
    models = tmp_path / "models.toml"
    models.write_text('[models.priced]\nbackend = "hf"\nmodel = "x"\nprice_per_mtok = {output = 9.0}\n')
    assert price_per_mtok("priced", '{"price_per_mtok": {"output": 2}}', models) == {"output": 9.0}
    assert price_per_mtok("unlisted", '{"price_per_mtok": {"output": 2}}', models) == {"output": 2.0}
