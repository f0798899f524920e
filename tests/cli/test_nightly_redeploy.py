"""The redeploy scenario, end to end: `harness nightly --config` (a real subprocess) against a real
HTTP server on loopback that is "redeployed" under the same model name and URL with a worse model.

Without a declared revision nothing identifies the served weights, so the second night must ask the
server again (a per-night key), find the regression and exit 1 with it in its report. With a
declared revision that did not change, the second night reuses every sample and says so loudly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harness.tasks.arith import make_items
from loopback_openai import Behaviour, LoopbackServer

HARNESS = [sys.executable, "-m", "harness"]
ITEMS = 15
GOLD = {it.fields["question"]: (int(it.id), it.gold) for it in make_items(ITEMS)}


def _item(req: dict) -> tuple[int, str]:
    text = req["messages"][-1]["content"] if "messages" in req else req["prompt"]
    return next(v for q, v in GOLD.items() if q in text)


def good(req: dict, i: int) -> str:
    return f"Adding it up. The answer is {_item(req)[1]}."


def worse(req: dict, i: int) -> str:  # the new checkpoint: wrong on every even item
    idx, gold = _item(req)
    return f"The answer is {int(gold) + 1 if idx % 2 == 0 else gold}."


def setup(tmp: Path, url: str, revision: str | None) -> list[str]:
    rev = f'revision = "{revision}"\n' if revision else ""
    (tmp / "models.toml").write_text(f'[models.phi]\nbackend = "openai"\nmodel = "phi-latest"\nbase_url = "{url}"\n{rev}'
                                     '[models.phi.sampling]\nmax_tokens = 32\ntemperature = 0.8\n')
    (tmp / "nightly.toml").write_text(f'suite = "phi"\nmodels = ["phi"]\nk = 1\nlimit = {ITEMS}\nseeds = [0, 1]\n'
                                      'label = "math SFT round 2"\ntuning = "math"\nreport_dir = "reports"\n'
                                      'leaderboard_url = "http://board:8501"\n[domains]\nmath = ["arith"]\n')
    return ["nightly", "--config", str(tmp / "nightly.toml"), "--models", str(tmp / "models.toml"),
            "--db", str(tmp / "r.duckdb")]


def night(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    r = subprocess.run([*HARNESS, *args], capture_output=True, text=True, timeout=300, cwd=cwd)
    print(r.stdout, r.stderr, sep="\n")  # the night's own log, shown when a test fails
    return r


def completions(b: Behaviour) -> int:
    return sum(int(req.get("n", 1)) for req in b.requests)


def test_redeployed_server_is_measured_again_and_the_regression_fails_the_night(tmp_path):
    b = Behaviour(model="phi-latest", model_info={"root": "/models/phi-latest", "max_model_len": 4096}, answer=good)
    with LoopbackServer(b) as server:
        args = setup(tmp_path, server.url, revision=None)
        first = night(args, tmp_path)
        assert first.returncode == 0, first.stderr
        assert completions(b) == 2 * ITEMS  # two seeds, k = 1
        assert "nothing identifies its weights" in first.stderr

        b.answer = worse  # redeployed: same name, same URL, same /v1/models report
        second = night(args, tmp_path)
        assert completions(b) == 4 * ITEMS, "the second night must ask the server, not reuse last night"
        assert second.returncode == 1, second.stderr
        assert "regressed" in second.stdout

    reports = sorted((tmp_path / "reports").glob("night-*.json"), key=lambda p: p.stat().st_mtime_ns)
    assert len(reports) == 2
    doc = json.loads(reports[-1].read_text())
    assert doc["verdict"] == "regressed" and doc["exit_code"] == 1 and doc["generated"] == 2 * ITEMS
    assert doc["label"] == "math SFT round 2" and doc["harness_version"]
    (m,) = doc["models"]
    assert m["identity"]["identified"] is False and m["identity"]["reported"] == {"max_model_len": 4096,
                                                                                   "root": "/models/phi-latest"}
    assert m["baseline_night"] == json.loads(reports[0].read_text())["night_id"]
    by_scope = {(v["scope"], v["domain"] or v["task"]): v for v in doc["verdicts"]}
    for key in (("domain", "math"), ("task", "arith")):
        v = by_scope[key]
        assert v["status"] == "regressed" and v["noise_floor"] == 0.0
        assert v["baseline_score"] == 1.0 and v["score"] == pytest.approx(7 / 15)
        assert v["diff"] == pytest.approx(-8 / 15) and v["p_value"] < 0.01
    assert sorted(int(i) for _, i in by_scope[("task", "arith")]["fell_items"]) == list(range(0, ITEMS, 2))
    md = reports[-1].with_suffix(".md").read_text()
    assert (tmp_path / "reports" / "latest.md").read_text() == md
    assert "**REGRESSED**" in md and "math SFT round 2" in md
    assert "http://board:8501/nightly?night=" in md and "http://board:8501/items?model=phi&task=arith&item=0" in md


def test_a_declared_revision_that_did_not_change_reuses_the_cache_and_says_so(tmp_path):
    b = Behaviour(model="phi-latest", answer=good)
    with LoopbackServer(b) as server:
        args = setup(tmp_path, server.url, revision="ckpt-7")
        assert night(args, tmp_path).returncode == 0
        asked = completions(b)
        assert asked == 2 * ITEMS
        second = night(args, tmp_path)
        assert second.returncode == 0, second.stderr
        assert completions(b) == asked  # nothing asked: every sample reused
    assert "NOTHING NEW WAS GENERATED" in second.stdout + second.stderr
    doc = json.loads(sorted((tmp_path / "reports").glob("night-*.json"), key=lambda p: p.stat().st_mtime_ns)[-1].read_text())
    assert doc["generated"] == 0 and doc["reused"] == 2 * ITEMS and doc["verdict"] == "steady"
    assert doc["models"][0]["identity"]["revision"] == "ckpt-7" and doc["models"][0]["identity"]["identified"]


def test_the_old_flags_still_work_and_a_dead_endpoint_fails_only_its_model(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    b = Behaviour(model="phi-latest", answer=good)
    with LoopbackServer(b) as server:
        live = f"openai:phi-latest@{server.url}"
        r = night(["nightly", "--model", f"openai:gone@{dead}", "--model", live, "--task", "arith", "-k", "1",
                   "--limit", "5", "--seed", "0", "--db", str(tmp_path / "r.duckdb"), "--json"], tmp_path)
    assert r.returncode == 3, r.stderr  # a model's part failed; nothing regressed
    doc = json.loads(r.stdout)
    parts = {m["model"]: m for m in doc["models"]}
    assert parts[live]["status"] == "done" and parts[live]["generated"] == 5
    assert parts[f"openai:gone@{dead}"]["status"] == "failed" and "cannot read" in parts[f"openai:gone@{dead}"]["error"]
    assert f"openai:gone@{dead} FAILED" in r.stderr
    assert (tmp_path / "nightly-reports" / "latest.md").is_file()  # beside the store by default


def test_run_revision_flag_is_part_of_a_served_models_identity(tmp_path):
    b = Behaviour(model="phi-latest", answer=good, model_info={"root": "/models/phi"})
    with LoopbackServer(b) as server:
        base = ["run", "--model", f"openai:phi-latest@{server.url}", "--task", "arith", "-k", "2", "--limit", "3",
                "--db", str(tmp_path / "r.duckdb"), "--json", "--no-progress"]
        made = [json.loads(night([*base, "--revision", rev], tmp_path).stdout)["tasks"][0]["generated"]
                for rev in ("r1", "r1", "r2")]
        assert made == [6, 0, 6]  # the same revision reuses; a new one is measured
        b.model_info = {"root": "/models/phi-v2"}  # the server reports other weights: a new identity
        assert json.loads(night([*base, "--revision", "r2"], tmp_path).stdout)["tasks"][0]["generated"] == 6


def test_a_night_killed_midway_is_resumed_with_its_own_samples_and_the_stale_lock_named(tmp_path):
    reached, release = threading.Event(), threading.Event()
    served = []

    def slow_after_8(req: dict, i: int) -> str:
        served.append(1)
        if len(served) > 8:  # the third batch hangs: the night is killed while it waits
            reached.set()
            release.wait()
        return good(req, i)

    b = Behaviour(model="phi-latest", answer=slow_after_8)
    with LoopbackServer(b) as server:
        (tmp_path / "models.toml").write_text(
            f'[models.phi]\nbackend = "openai"\nmodel = "phi-latest"\nbase_url = "{server.url}"\n'
            '[models.phi.options]\nbatch_size = 4\nmax_concurrency = 1\n')
        args = [*HARNESS, "nightly", "--model", "phi", "--task", "arith", "-k", "1", "--limit", "10", "--seed", "0",
                "--models", str(tmp_path / "models.toml"), "--db", str(tmp_path / "r.duckdb")]
        first = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert reached.wait(timeout=120), "the first night never reached its third batch"
            first.send_signal(signal.SIGKILL)  # a crash: nothing is cleaned up
            first.wait(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
            release.set()
        second = night(args[3:], tmp_path)
    assert second.returncode == 0, second.stderr
    assert f"stale lock found: PID {first.pid}" in second.stderr
    assert "resumed" in second.stderr and "generated 2, reused 8" in second.stderr
    nights_ = json.loads((tmp_path / "nightly-reports" / "latest.json").read_text())
    assert nights_["resumed"] is True and nights_["generated"] == 2
