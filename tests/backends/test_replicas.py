"""One model on several loopback replicas: spread, ejection and probing, failover, nothing lost or doubled."""

import pytest

from harness.backends.openai import OpenAIBackend
from harness.data import Source
from harness.errors import BackendError, HarnessError
from harness.models import ModelSpec, load_models
from harness.pipeline.runner import run
from harness.records import Prompt, Request, Sampling, sample_seed
from harness.store import Store
from harness.tasks import get_task
from loopback_openai import Behaviour, LoopbackServer

FAST = {"backoff_s": 0.01, "backoff_max_s": 0.05, "max_retries": 3, "probe_s": 0.05}


def spec(urls, **opts):
    return ModelSpec("lb", "openai", "loopback-model", base_url=urls[0], base_urls=tuple(urls),
                     options={**FAST, **opts})


def reqs(n, k=1):
    out = []
    for j in range(n):
        p = Prompt(f"What is {j}+{j}?")
        out.append(Request(p, tuple(range(k)), tuple(sample_seed(0, p.hash, i) for i in range(k))))
    return out


def stored(store, run_id):
    return store.query("SELECT prompt_hash, sample_index, text FROM generations WHERE run_id = ? "
                       "ORDER BY prompt_hash, sample_index", [run_id])


def test_one_of_three_replicas_killed_mid_run_loses_and_doubles_nothing(tmp_path):
    """The issue's "done": three replicas, one dies after a few answers (its in-flight requests are
    dropped); the run completes on the others, every replica served, each sample stored exactly once
    and equal to what a single server gives."""
    behaviours = [Behaviour(delay_s=0.01), Behaviour(delay_s=0.01, die_after=4), Behaviour(delay_s=0.01)]
    with LoopbackServer(behaviours[0]) as a, LoopbackServer(behaviours[1]) as b, LoopbackServer(behaviours[2]) as c:
        store = Store(tmp_path / "r.duckdb")
        s = spec([a.url, b.url, c.url], max_concurrency=2)
        summary = run(s, [get_task("arith")], 4, store, Source(limit=30), progress=False)
        report = store.backend_report(summary.run_id)
        # the same run against one server, into another store
        single = Store(tmp_path / "one.duckdb")
        one = run(ModelSpec("lb", "openai", "loopback-model", base_url=a.url, options=FAST),
                  [get_task("arith")], 4, single, Source(limit=30), progress=False)
    assert behaviours[1].dead, "the replica was meant to die mid-run"
    rows = stored(store, summary.run_id)
    assert summary.tasks[0].generated == 120 and len(rows) == 120
    assert len({(r["prompt_hash"], r["sample_index"]) for r in rows}) == 120
    assert store.runs()[0]["status"] == "done"
    by_url = {r["url"]: r for r in report["replicas"]}
    assert all(by_url[x.url]["served"] > 0 for x in (a, b, c))
    assert by_url[b.url]["served"] == 4 and by_url[b.url]["failed"] >= 1 and by_url[b.url]["ejections"] >= 1
    assert sum(r["served"] for r in report["replicas"]) == 30  # one request (n=4) per item, none twice
    assert [(r["prompt_hash"], r["sample_index"], r["text"]) for r in rows] == \
        [(r["prompt_hash"], r["sample_index"], r["text"]) for r in stored(single, one.run_id)]


def test_least_outstanding_sends_less_work_to_a_slow_replica():
    slow, fast = Behaviour(delay_s=0.2), Behaviour(delay_s=0.005)
    with LoopbackServer(slow) as s, LoopbackServer(fast) as f:
        b = OpenAIBackend(spec([s.url, f.url], max_concurrency=2))
        out = b.generate(reqs(40), Sampling())
    assert len(out) == 40 and all(len(o) == 1 for o in out)
    assert fast.served > 2 * slow.served > 0


def test_a_failing_replica_is_ejected_probed_and_brought_back():
    flaky = Behaviour(drop_times=2, delay_s=0.01)
    with LoopbackServer(flaky) as x, LoopbackServer(Behaviour(delay_s=0.01)) as y:
        b = OpenAIBackend(spec([x.url, y.url], max_concurrency=1))
        first = b.generate(reqs(4), Sampling())
        served_before = flaky.served
        b.generate(reqs(30), Sampling())  # later calls: probe_s has passed, the probe brought it back
        rep = {r["url"]: r for r in b.report()["replicas"]}
    assert len(first) == 4
    assert rep[x.url]["ejections"] >= 1 and rep[x.url]["failed"] == 2 and rep[x.url]["healthy"]
    assert flaky.served > served_before, "the ejected replica never came back"


def test_all_replicas_down_is_a_clear_error():
    with LoopbackServer(Behaviour(fail_status=503, fail_times=100)) as x, \
            LoopbackServer(Behaviour(fail_status=503, fail_times=100)) as y:
        b = OpenAIBackend(spec([x.url, y.url]))
        with pytest.raises(BackendError, match=r"tried 4 times.*HTTP 503"):
            b.generate(reqs(1), Sampling())


def test_models_file_takes_base_urls(tmp_path):
    f = tmp_path / "m.toml"
    f.write_text('[models.m]\nbackend = "openai"\nmodel = "x"\nbase_urls = ["http://a:1/v1", "http://b:1/v1"]\n')
    m = load_models(f)["m"]
    assert m.base_urls == ("http://a:1/v1", "http://b:1/v1") and m.base_url == "http://a:1/v1"
    assert m.fingerprint() == ModelSpec("m", "openai", "x", base_url="http://a:1/v1").fingerprint()
    f.write_text('[models.m]\nbackend = "openai"\nmodel = "x"\nbase_url = "http://a:1/v1"\nbase_urls = ["http://b:1/v1"]\n')
    with pytest.raises(HarnessError, match="not both"):
        load_models(f)
