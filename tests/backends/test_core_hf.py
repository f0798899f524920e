"""The transformers path with a real (tiny, random-weight) model."""

import pytest

from harness.backends.hf import HFBackend
from harness.data import Source
from harness.errors import BackendError
from harness.models import ModelSpec, parse_inline
from harness.records import Message, Prompt, Request, Sampling
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task


@pytest.fixture(scope="module")
def backend(tiny_model):
    return HFBackend(ModelSpec("tiny", "hf", str(tiny_model), options={"batch_size": 4}))


def test_chat_template_is_applied_when_the_tokenizer_has_one(backend):
    text, templated = backend.render(Prompt("plain", (Message("user", "Hi there"),)))
    assert templated and text.startswith("<|bos|><|user|>Hi there") and text.endswith("<|assistant|>")
    assert backend.render(Prompt("plain")) == ("plain", False)


def test_a_final_assistant_turn_is_continued_not_closed(backend):
    """The start of an answer (a pivotal search's prefix) is continued: no end of turn after it."""
    text, templated = backend.render(Prompt("plain", (Message("user", "Hi there"), Message("assistant", "It is"))))
    assert templated and text.endswith("<|assistant|>It is") and text.count("<|assistant|>") == 1


def test_k_samples_per_prompt_differ_and_respect_max_tokens(backend):
    reqs = [Request(Prompt(f"Question {i}: 2+2?"), (0, 1, 2, 3), (11, 12, 13, 14)) for i in range(3)]
    out = backend.generate(reqs, Sampling(max_tokens=12, temperature=1.0))
    assert [len(o) for o in out] == [4, 4, 4]
    for comps in out:
        assert len({c.text for c in comps}) == 4
        assert all(c.tokens is not None and c.tokens <= 12 for c in comps)


def test_stop_strings_cut_the_text(backend):
    # with a random model, sample until some completion contains a common character, then check the cut
    reqs = [Request(Prompt("The answer is"), tuple(range(8)), tuple(range(100, 108)))]
    out = backend.generate(reqs, Sampling(max_tokens=40, temperature=1.0, stop=(" ",)))[0]
    assert all(" " not in c.text for c in out)
    assert any(c.finish == "stop" for c in out)


def test_same_batch_and_seeds_reproduce(backend):
    reqs = [Request(Prompt("Seeds?"), (0, 1), (5, 6))]
    a = backend.generate(reqs, Sampling(max_tokens=10, temperature=1.0))
    b = backend.generate(reqs, Sampling(max_tokens=10, temperature=1.0))
    assert [c.text for c in a[0]] == [c.text for c in b[0]]


def test_a_missing_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(BackendError, match="could not load model"):
        HFBackend(ModelSpec("x", "hf", str(tmp_path / "no-such-model")))


def test_run_end_to_end_on_the_hf_path(tiny_model, tmp_path):
    spec = parse_inline(f"hf:{tiny_model}")
    store = Store(tmp_path / "r.duckdb")
    s = run(spec, [get_task("arith")], 3, store, Source(limit=6), sampling={"max_tokens": 16}, progress=False)
    t = s.tasks[0]
    assert (t.n_items, t.generated, t.reused) == (6, 18, 0)
    assert 0.0 <= t.pass_at_1 <= t.pass_at_k <= 1.0
    rows = store.query("SELECT count(*) AS n, count(DISTINCT text) AS d FROM generations")[0]
    assert rows["n"] == 18 and rows["d"] > 1


def test_budget_forcing_closes_cut_thinking_and_continues(tiny_model, backend):
    from harness.thinking import split

    spec = ModelSpec("tiny", "hf", str(tiny_model), options={"batch_size": 4},
                     thinking={"starts_open": True, "budget": 4})  # the output starts inside the thinking
    reqs = [Request(Prompt(f"Question {i}: 2+2?"), (0, 1, 2), (21, 22, 23)) for i in range(2)]
    forced = HFBackend(spec).generate(reqs, Sampling(max_tokens=10, temperature=1.0))
    unforced = backend.generate(reqs, Sampling(max_tokens=10, temperature=1.0))
    cut = [c for comps in forced for c in comps if "</think>" in c.text]
    assert cut  # a random model rarely stops within 4 tokens
    for c in cut:
        s = split(c.text, c.finish, None, spec.thinking_format())
        assert not s.unfinished and s.thinking  # closed by the budget, then answered
        assert 4 <= c.tokens <= 10 and c.thinking_tokens <= 4
        assert c.forced  # the closing tag is the harness's
    assert not any(c.forced for comps in forced for c in comps if "</think>" not in c.text)
    assert not any(c.forced for comps in unforced for c in comps)
    assert all(split(c.text, c.finish, None, spec.thinking_format()).unfinished
               for comps in unforced for c in comps if c.finish == "length")
