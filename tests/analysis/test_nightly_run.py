"""A night in process (fake backends, a real DuckDB file): the lock, a failing model, resuming a
crashed night, per-domain verdicts with the noise floor, and the report's contents."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import replace

import pytest

from harness.analysis.nightly import judge, noise_floor, verdict
from harness.analysis.nightly_config import NightConfig, load_config, parse_revisions
from harness.analysis.nightly_lock import NightlyLock, NightlyLocked
from harness.analysis.nightly_report import report_markdown
from harness.analysis.nightly_run import pick_night, run_night
from harness.data import Source
from harness.errors import BackendError, HarnessError
from harness.models import ModelSpec
from harness.pipeline.identity import Identified
from harness.store import Store
from harness.tasks import get_task
from harness.tasks.arith import make_items
from fakes import FakeBackend

ARITH = get_task("arith")
ARITH2 = replace(ARITH, name="arith2", kind="other")  # a second domain over the same embedded items
ITEMS = 20
GOLD = {it.fields["question"]: it for it in make_items(ITEMS)}


def answers(wrong_every: int | None):
    def answer(prompt: str, rng) -> str:
        it = next(i for q, i in GOLD.items() if q in prompt)
        bad = wrong_every is not None and int(it.id) % wrong_every == 0
        return f"The answer is {int(it.gold) + 1 if bad else it.gold}"
    return answer


def no_probe(spec, revision=None, strict=False):
    return Identified(spec if revision is None else replace(spec, revision=revision))


def night(store, cfg, backends, night_id, **kw):
    specs = {m: ModelSpec(m, "hf", f"hub/{m}", revision=cfg.revisions.get(m)) for m in cfg.models}
    return run_night(cfg, [ARITH, ARITH2], specs, store, night_id=night_id, source=Source(limit=ITEMS),
                     backend_factory=lambda s: backends[s.name], identify=no_probe, log=lambda line: None, **kw)


CFG = NightConfig(suite="s", models=("phi",), domains={"math": ("arith",), "logic": ("arith2",)}, k=1,
                  seeds=(0, 1), revisions={"phi": "r1"}, leaderboard_url="http://lb")


@pytest.mark.parametrize("diff,p,floor,want", [
    (-0.2, 0.001, 0.05, "regressed"), (0.2, 0.001, 0.05, "improved"), (-0.2, 0.001, 0.3, "steady"),
    (-0.2, 0.2, 0.0, "steady"), (None, None, None, "no_baseline"), (-0.2, 0.001, None, "regressed"),
])
def test_verdict_needs_significance_and_a_change_beyond_the_noise_floor(diff, p, floor, want):
    assert verdict(diff, p, floor) == want


def test_noise_floor_is_the_spread_across_seeds():
    assert noise_floor([0.5]) is None
    assert noise_floor([0.5, 0.7, 0.6]) == pytest.approx(0.2)


def test_a_noisy_model_inside_its_noise_floor_is_steady():
    rows = lambda right: [{"task": "t", "item_id": str(i), "maj_correct": i < right, "pass_at_1": float(i < right)}
                          for i in range(40)]
    kw = dict(run_id="r", baseline_run_id="b", night_id="n", baseline_night_id="m")
    # last night 30/40; tonight 20/40 at seed 0 but 34/40 at seed 1: the seeds alone move it 14 items
    v = judge("phi", "task", "t", ["t"], [rows(20), rows(34)], rows(30), **kw)
    assert v.row.p_value < 0.05 and v.row.noise_floor == pytest.approx(14 / 40) and v.row.status == "steady"
    v = judge("phi", "task", "t", ["t"], [rows(20), rows(21)], rows(30), **kw)
    assert v.row.status == "regressed" and v.row.fell == 10 and v.fell_items[0] == ("t", "20")


def test_domains_fall_while_another_is_tuned_and_the_report_says_so(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    first = night(store, CFG, {"phi": FakeBackend(answers(None))}, "n1")
    # arith2 renders the same prompts as arith: its samples come from the cache (2 seeds x 20 prompts)
    assert first.verdict == "no_baseline" and first.generated == 2 * ITEMS and first.reused == 2 * ITEMS
    # tonight math is being tuned, and a new checkpoint (r2) is worse on every second item
    cfg = replace(CFG, revisions={"phi": "r2"}, label="math SFT round 2", tuning="math")
    second = night(store, cfg, {"phi": FakeBackend(answers(2))}, "n2")
    doms = {v.row.domain: v for v in second.verdicts if v.row.scope == "domain"}
    assert doms["logic"].row.status == "regressed" and doms["logic"].fell_while_tuning == "math"
    assert doms["math"].row.status == "regressed" and doms["math"].fell_while_tuning is None
    assert second.exit_code() == 1
    md = report_markdown(second)
    assert "phase **math SFT round 2**" in md and "fell while `math` was tuned" in md
    assert "[history](http://lb/history?model=phi)" in md
    stored = store.night("n2")
    assert stored["status"] == "done" and stored["verdict"] == "regressed" and stored["label"] == "math SFT round 2"
    assert json.loads(stored["report_json"])["verdicts"][0]["baseline_night_id"] == "n1"
    assert {r["status"] for r in store.night_checks("n2")} == {"regressed"}
    assert {r["run_id"] for r in store.night_runs("n2")} == set(second.parts[0].runs.values())
    cfg_off = replace(cfg, fail_on_regression=False)
    assert replace(second, config=cfg_off).exit_code() == 0


def test_a_failing_model_fails_its_part_only(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    cfg = replace(CFG, models=("down", "phi"), revisions={"phi": "r1"})
    res = night(store, cfg, {"down": FakeBackend(die_after_batches=0), "phi": FakeBackend(answers(None))}, "n1")
    parts = {p.model: p for p in res.parts}
    assert parts["down"].status == "failed" and "backend died" in parts["down"].error
    assert parts["phi"].status == "done" and res.exit_code() == 3 and res.verdict == "failed"
    assert {(r["model_name"], r["status"]) for r in store.night_runs("n1")} == {("down", "failed"), ("phi", "done"),
                                                                                ("phi", "done")}
    assert "**FAILED**" in report_markdown(res)


def test_an_unidentified_model_never_reuses_another_night_but_resumes_its_own(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    cfg = replace(CFG, revisions={}, seeds=(0,))
    a = night(store, cfg, {"phi": FakeBackend(answers(None))}, "n1")
    assert a.parts[0].identity["identified"] is False and a.generated == ITEMS
    assert any("nothing identifies" in w for w in a.warnings)
    # a crash mid-night: the backend dies after two batches of 8
    crashing = FakeBackend(answers(None), die_after_batches=2)
    b = night(store, cfg, {"phi": crashing}, "n2")
    assert b.parts[0].status == "failed" and crashing.generated == 16
    again = FakeBackend(answers(None))
    c = night(store, cfg, {"phi": again}, "n2", resumed=True)
    assert c.parts[0].status == "done" and again.generated == ITEMS - 16  # the night's own samples reused


def test_pick_night_resumes_an_unfinished_night_and_numbers_new_ones(tmp_path):
    from harness.store import NightRow, now

    store = Store(tmp_path / "r.duckdb")
    nid, resumed = pick_night(store, "s")
    assert not resumed and nid.startswith("s-")
    store.put_night(NightRow(night_id=nid, suite="s", started_at=now(), status="running"))
    assert pick_night(store, "s") == (nid, True)
    store.put_night(NightRow(night_id=nid, suite="s", started_at=now(), status="done"))
    assert pick_night(store, "s") == (nid + ".2", False)
    assert pick_night(store, "s", new_night=True)[0] == nid + ".2"


HOLD = """
import sys
from harness.analysis.nightly_lock import NightlyLock
lock = NightlyLock(sys.argv[1], "night-x").acquire()
print("held", flush=True)
sys.stdin.read()
"""


def test_the_lock_names_its_holder_and_a_crashed_holder_is_recognised(tmp_path):
    path = tmp_path / "n.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(NightlyLocked, match=rf"PID {holder.pid} on .*started 20\d\d-.*night night-x"):
            NightlyLock(path).acquire()
        os.kill(holder.pid, signal.SIGKILL)  # a crash: no cleanup runs
        holder.wait()
    finally:
        if holder.poll() is None:
            holder.kill()
    with NightlyLock(path, "night-y") as lock:
        assert lock.stale is not None and lock.stale.pid == holder.pid and lock.stale.night_id == "night-x"
        assert json.loads(path.read_text())["pid"] == os.getpid()
    with NightlyLock(path) as lock:  # the last holder exited cleanly: nothing stale
        assert lock.stale is None


def test_config_file_and_its_errors(tmp_path):
    p = tmp_path / "nightly.toml"
    p.write_text('models = ["phi"]\nseeds = [3, 4]\nlabel = "code round 1"\ntuning = "code"\nreport_dir = "rep"\n'
                 '[domains]\ncode = ["humaneval"]\nmath = ["gsm8k", "arith"]\n[revisions]\nphi = 1200\n')
    cfg = load_config(p)
    assert cfg.suite == "nightly" and cfg.all_tasks() == ("humaneval", "gsm8k", "arith") and cfg.seeds == (3, 4)
    assert cfg.revisions == {"phi": "1200"} and cfg.report_dir == tmp_path / "rep"
    p.write_text('models = ["phi"]\ntasks = ["arith"]\nsamples = 3\n')
    with pytest.raises(HarnessError, match="unknown keys"):
        load_config(p)
    p.write_text('models = ["phi"]\ntasks = ["arith"]\ntuning = "code"\n[domains]\nmath = ["arith"]\n')
    with pytest.raises(HarnessError, match="names no domain"):
        load_config(p)
    assert parse_revisions(["step-9"], ["phi"]) == {"phi": "step-9"}
    assert parse_revisions(["a=1", "b=2"], ["a", "b"]) == {"a": "1", "b": "2"}
    with pytest.raises(HarnessError, match="MODEL=REVISION"):
        parse_revisions(["x"], ["a", "b"])


def test_identity_of_served_and_local_models(tmp_path):
    served = ModelSpec("phi", "openai", "phi-latest", base_url="http://h/v1")
    assert not served.weights_identified()
    assert replace(served, revision="s1").weights_identified()
    assert replace(served, reported={"root": "/m"}).weights_identified() is False  # a path is not the weights
    assert replace(served, reported={"revision": "abc"}).weights_identified()
    ids = {served.fingerprint(), replace(served, revision="s1").fingerprint(),
           replace(served, reported={"root": "/m"}).fingerprint(), replace(served, night_key="n1").fingerprint()}
    assert len(ids) == 4
    (tmp_path / "w.bin").write_bytes(b"weights")
    local = ModelSpec("t", "hf", str(tmp_path))
    assert local.weights_identified() and local.fingerprint() == ModelSpec("u", "hf", str(tmp_path)).fingerprint()
    # unset fields add nothing: ids made before they existed stay valid
    from harness.records import stable_hash

    assert served.fingerprint() == stable_hash({"model": "phi-latest", "revision": None, "base_url": "http://h/v1"}, 20)


def test_server_report_is_part_of_a_served_models_identity():
    from loopback_openai import Behaviour, LoopbackServer
    from harness.pipeline.identity import identify

    b = Behaviour(model="phi-latest", model_info={"root": "/models/phi", "max_model_len": 2048})
    with LoopbackServer(b) as server:
        spec = ModelSpec("phi", "openai", "phi-latest", base_url=server.url)
        one = identify(spec, revision="s1").spec
        assert one.reported == {"root": "/models/phi", "max_model_len": 2048} and one.revision == "s1"
        assert identify(spec).spec.fingerprint() == identify(spec).spec.fingerprint()  # `created` is dropped
        b.model_info = {"root": "/models/phi-v2", "max_model_len": 2048}
        assert identify(spec, revision="s1").spec.fingerprint() != one.fingerprint()
        with pytest.raises(BackendError, match="does not serve model 'other'"):
            identify(replace(spec, model="other"), strict=True)
    down = identify(spec)
    assert down.warning and "name, URL and revision only" in down.warning and not down.spec.reported
