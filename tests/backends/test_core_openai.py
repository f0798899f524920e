"""The openai backend against a real HTTP server on loopback: protocol, n, seeds, retries, faults."""

import time

import pytest

from harness.backends.openai import OpenAIBackend
from harness.data import Source
from harness.errors import BackendError
from harness.models import ModelSpec
from harness.records import Message, Prompt, Request, Sampling, sample_seed
from harness.pipeline.runner import run
from harness.store import Store
from harness.tasks import get_task
from loopback_openai import Behaviour, LoopbackServer

FAST = {"backoff_s": 0.01, "backoff_max_s": 0.05, "max_retries": 3}


def backend(url, **opts):
    return OpenAIBackend(ModelSpec("lb", "openai", "loopback-model", base_url=url, options={**FAST, **opts}))


def req(k=4, chat=False):
    p = Prompt("What is 2+2?", (Message("user", "What is 2+2?"),) if chat else None)
    return Request(p, tuple(range(k)), tuple(sample_seed(0, p.hash, i) for i in range(k)))


@pytest.mark.parametrize("chat", [False, True])
def test_n_in_one_request_and_route_by_prompt_kind(chat):
    with LoopbackServer() as srv:
        out = backend(srv.url).generate([req(4, chat)], Sampling(max_tokens=20, stop=("\n",)))
        body = srv.behaviour.requests[0]
    assert len(out[0]) == 4 and len({c.text for c in out[0]}) > 1
    assert body["n"] == 4 and body["stop"] == ["\n"] and body["max_tokens"] == 20
    assert ("messages" in body) is chat and ("prompt" in body) is (not chat)
    assert all(c.latency_s is not None and c.prompt_tokens == 11 for c in out[0])


def test_refused_n_falls_back_to_single_requests_with_distinct_seeds():
    with LoopbackServer(Behaviour(refuse_n=True)) as srv:
        b = backend(srv.url)
        out = b.generate([req(5)], Sampling())
        singles = [r for r in srv.behaviour.requests if r["n"] == 1]
    assert len(out[0]) == 5 and len(singles) == 5
    assert len({r["seed"] for r in singles}) == 5, "k single requests must not share a seed"
    assert len({c.text for c in out[0]}) > 1
    assert b.use_n is False  # remembered: later prompts go straight to single requests


def test_shared_seed_would_make_samples_identical():
    """Why seeds are per sample: the loopback server, like real ones, repeats itself on one seed."""
    with LoopbackServer(Behaviour(refuse_n=True)) as srv:
        b = backend(srv.url, use_n=False)
        r = req(4)
        same = Request(r.prompt, r.indices, (7, 7, 7, 7))
        assert len({c.text for c in b.generate([same], Sampling())[0]}) == 1
        assert len({c.text for c in b.generate([r], Sampling())[0]}) == 4


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retries_transient_statuses(status):
    with LoopbackServer(Behaviour(fail_status=status, fail_times=2)) as srv:
        b = backend(srv.url)
        out = b.generate([req(2)], Sampling())
    assert len(out[0]) == 2 and b.stats.retries == 2


def test_retries_a_dropped_connection():
    with LoopbackServer(Behaviour(drop_times=2)) as srv:
        b = backend(srv.url)
        assert len(b.generate([req(3)], Sampling())[0]) == 3
    assert b.stats.retries == 2


def test_gives_up_after_retries_naming_url_and_attempts():
    with LoopbackServer(Behaviour(fail_status=500, fail_times=100)) as srv:
        with pytest.raises(BackendError, match=r"/completions .*tried 4 times.*HTTP 500"):
            backend(srv.url).generate([req(1)], Sampling())


def test_unreachable_endpoint_is_a_clear_error():
    url = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    t0 = time.monotonic()
    with pytest.raises(BackendError, match=r"127\.0\.0\.1:9/v1/completions.*tried 4 times.*Is the server running"):
        backend(url).generate([req(1)], Sampling())
    assert time.monotonic() - t0 < 30


def test_unknown_model_name_is_not_retried():
    with LoopbackServer() as srv:
        b = OpenAIBackend(ModelSpec("lb", "openai", "wrong-name", base_url=srv.url, options=FAST))
        with pytest.raises(BackendError, match="404 for model 'wrong-name'"):
            b.generate([req(1)], Sampling())
        assert len(srv.behaviour.requests) == 1


def test_api_key_is_sent_from_the_named_variable(monkeypatch):
    monkeypatch.setenv("LOOPBACK_KEY", "sekrit")
    b = OpenAIBackend(ModelSpec("lb", "openai", "m", base_url="http://x/v1", api_key_env="LOOPBACK_KEY"))
    assert b.headers["Authorization"] == "Bearer sekrit"
    assert "sekrit" not in str(b.spec.describe())


def test_run_through_the_server_end_to_end(tmp_path):
    with LoopbackServer() as srv:
        spec = ModelSpec("lb", "openai", "loopback-model", base_url=srv.url, options=FAST)
        store = Store(tmp_path / "r.duckdb")
        s = run(spec, [get_task("arith")], 4, store, Source(limit=5), progress=False)
        again = run(spec, [get_task("arith")], 4, store, Source(limit=5), progress=False)
        n_requests = len(srv.behaviour.requests)
    assert (s.tasks[0].generated, again.tasks[0].generated, again.tasks[0].reused) == (20, 0, 20)
    assert n_requests == 5  # one request with n=4 per item, nothing on the rerun


def test_stream_yields_each_prompts_samples_as_they_come_and_closing_cancels_the_rest():
    prompts = [Prompt(f"What is {i}+{i}?") for i in range(6)]
    reqs = [Request(p, (0, 1), (sample_seed(0, p.hash, 0), sample_seed(0, p.hash, 1))) for p in prompts]
    with LoopbackServer(Behaviour(delay_s=0.2)) as srv:
        b = backend(srv.url, max_concurrency=2)
        groups = list(b.stream(reqs, Sampling(max_tokens=8)))
        assert len(groups) > 1, "samples must come back as prompts finish, not all at the end"
        assert sorted((r, j) for g in groups for r, j, _ in g) == [(r, j) for r in range(6) for j in (0, 1)]
        assert all(c.text for g in groups for _, _, c in g)
        srv.behaviour.requests.clear()
        it = b.stream(reqs, Sampling(max_tokens=8))
        next(it)
        it.close()  # cancels the requests still out and stops the event loop's thread
        time.sleep(0.5)
        assert len(srv.behaviour.requests) < 6
