"""The ray backend on a local Ray instance (one per module: it takes seconds to start), its HTTP
processor against a loopback server: the same stored result as a plain openai run, cache and k -> 2k."""

import pytest
from harness.tasks import get_task
from loopback_openai import LoopbackServer

from harness.data import Source
from harness.models import ModelSpec
from harness.pipeline.runner import run
from harness.store import Store

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'harness[ray]')")
pytest.importorskip("ray.data.llm", reason="Ray Data's LLM API is not installed")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


def texts(store, run_id):
    return store.query("SELECT prompt_hash, sample_index, seed, text FROM generations WHERE run_id = ? "
                       "ORDER BY prompt_hash, sample_index", [run_id])


def test_ray_run_stores_what_a_plain_run_stores_and_resumes(local_ray, tmp_path):
    with LoopbackServer() as srv:
        plain = ModelSpec("lb", "openai", "loopback-model", base_url=srv.url)
        via_ray = ModelSpec("lb", "ray", "loopback-model", base_url=srv.url, options={"concurrency": 2})
        assert via_ray.fingerprint() == plain.fingerprint()  # one endpoint model: samples are shared
        a, b = Store(tmp_path / "plain.duckdb"), Store(tmp_path / "ray.duckdb")
        # the same commands on both: k = 2, then k = 4 (a request with n draws its n samples from one seed)
        ra0 = run(plain, [get_task("arith")], 2, a, Source(limit=8), progress=False)
        ra = run(plain, [get_task("arith")], 4, a, Source(limit=8), progress=False)
        half = run(via_ray, [get_task("arith")], 2, b, Source(limit=8), progress=False)
        rb = run(via_ray, [get_task("arith")], 4, b, Source(limit=8), progress=False)  # k -> 2k: only the new half
        again = run(via_ray, [get_task("arith")], 4, b, Source(limit=8), progress=False)
    assert half.tasks[0].generated == 16 and rb.tasks[0].generated == 16 and again.tasks[0].generated == 0
    strip = [(r["prompt_hash"], r["sample_index"], r["seed"], r["text"])
             for r in texts(a, ra0.run_id) + texts(a, ra.run_id)]
    both = texts(b, half.run_id) + texts(b, rb.run_id)
    assert sorted((r["prompt_hash"], r["sample_index"], r["seed"], r["text"]) for r in both) == sorted(strip)
    scores = [{k: r[k] for k in ("maj_at_k", "pass_at_1", "pass_at_k")} for r in
              (a.task_results(ra.run_id)[0], b.task_results(rb.run_id)[0])]
    assert scores[0] == scores[1]
    assert b.backend_report(rb.run_id)["ray"]["requests"] == 8  # 2 samples per request, n=2
