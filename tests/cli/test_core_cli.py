"""The command line, run as a user runs it: a subprocess per command."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from harness.store import Store


def harness(*args, env=None, timeout=300, **kw):
    return subprocess.run([sys.executable, "-m", "harness", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, **kw)


def test_help_teaches_the_commands():
    r = harness("--help")
    assert r.returncode == 0
    for cmd in ("run", "runs", "models", "tasks", "demo"):
        assert cmd in r.stdout
    r = harness("run", "--help")
    assert "--model" in r.stdout and "hf:PATH_OR_ID" in r.stdout and "-k" in r.stdout


def test_models_lists_the_bundled_examples(tmp_path):
    r = harness("models", "--json", cwd=tmp_path)
    assert r.returncode == 0
    m = json.loads(r.stdout)
    assert m["phi"]["backend"] == "vllm" and m["phi"]["model"] == "microsoft/phi-4"
    assert m["70b"]["backend"] == "openai" and m["70b"]["api_key_env"] and m["70b"]["params_b"] == 70.6


@pytest.mark.parametrize("body,message", [
    ('[models.x]\nbackend = "tgi"\nmodel = "m"\n', "backend must be one of"),
    ('[models.x]\nbackend = "openai"\nmodel = "m"\nbase_url = "http://h/v1"\napi_key = "sk-1"\n', "api_key_env"),
    ('[models.x]\nbackend = "openai"\nmodel = "m"\n', "needs base_url"),
    ("[models.x\n", "not valid TOML"),
])
def test_bad_models_file_is_a_clear_error(tmp_path, body, message):
    f = tmp_path / "models.toml"
    f.write_text(body)
    r = harness("models", "--models", f)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_unknown_alias_names_the_known_ones(tmp_path):
    r = harness("run", "--model", "phii", "--task", "arith", "--db", tmp_path / "r.duckdb")
    assert r.returncode == 2
    assert "unknown model 'phii'" in r.stderr and "phi" in r.stderr and "70b" in r.stderr


def test_unknown_task_names_the_known_ones(tmp_path, tiny_model):
    r = harness("run", "--model", f"hf:{tiny_model}", "--task", "gsm9k", "--db", tmp_path / "r.duckdb")
    assert r.returncode == 2 and "unknown task 'gsm9k'" in r.stderr and "gsm8k" in r.stderr


def test_malformed_data_file_names_the_line(tmp_path, tiny_model):
    d = tmp_path / "data"
    d.mkdir()
    good = json.dumps({"question": "1+1?", "answer": "2\n#### 2"})
    (d / "gsm8k_test.jsonl").write_text(good + "\n" + good + "\n{not json\n")
    r = harness("run", "--model", f"hf:{tiny_model}", "--task", "gsm8k", "--data-dir", d, "--db", tmp_path / "r.duckdb")
    assert r.returncode == 2 and "gsm8k_test.jsonl:3: not valid JSON" in r.stderr
    (d / "gsm8k_test.jsonl").write_text(good + "\n" + json.dumps({"question": "q"}) + "\n")
    r = harness("run", "--model", f"hf:{tiny_model}", "--task", "gsm8k", "--data-dir", d, "--db", tmp_path / "r.duckdb")
    assert r.returncode == 2 and "gsm8k_test.jsonl:2: missing field(s) answer" in r.stderr


def test_missing_data_file_is_named(tmp_path, tiny_model):
    r = harness("run", "--model", f"hf:{tiny_model}", "--task", "gsm8k", "--data-dir", tmp_path, "--db", tmp_path / "r.duckdb")
    assert r.returncode == 2 and "gsm8k_test.jsonl not found" in r.stderr


def test_db_held_by_another_writer(tmp_path, tiny_model):
    db = tmp_path / "r.duckdb"
    Store(db).schema_version()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb,sys,time; con = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(60)", str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        holder.stdout.readline()
        r = harness("runs", "--db", db, env={"HARNESS_LOCK_TIMEOUT": "0.5"})
    finally:
        holder.kill()
        holder.wait()
    assert r.returncode == 2 and "is held by" in r.stderr and "PID" in r.stderr


def test_run_json_and_runs_on_real_gsm8k(tmp_path, tiny_model, shared_data):
    db = tmp_path / "results.duckdb"
    r = harness("run", "--model", f"hf:{tiny_model}", "--task", "gsm8k", "-k", "4", "--limit", "5", "--db", db,
                "--json", "--max-tokens", "16", "--data-dir", shared_data)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["run_id"] and out["model"] == f"hf:{tiny_model}"
    t = out["tasks"][0]
    assert {k: t[k] for k in ("task", "n_items", "k", "generated", "reused")} == \
        {"task": "gsm8k", "n_items": 5, "k": 4, "generated": 20, "reused": 0}
    for key in ("maj_at_k", "pass_at_1", "pass_at_k"):
        assert 0.0 <= t[key] <= 1.0
    golds = Store(db).query("SELECT item_id, gold FROM items ORDER BY item_id")
    assert golds[0] == {"item_id": "0", "gold": "18"}  # Janet's ducks
    runs = json.loads(harness("runs", "--db", db, "--json").stdout)
    assert runs[0]["run_id"] == out["run_id"] and runs[0]["status"] == "done" and runs[0]["generated"] == 20


KILL_MODELS = """
[models.tiny]
backend = "hf"
model = "{path}"
params_b = 0.0002
family = "tiny"
[models.tiny.sampling]
max_tokens = 24
temperature = 1.0
[models.tiny.options]
batch_size = 4
"""


def test_sigkill_then_resume_completes_without_loss_or_duplicates(tmp_path, tiny_model):
    models = tmp_path / "models.toml"
    models.write_text(KILL_MODELS.format(path=tiny_model))
    db = tmp_path / "r.duckdb"
    args = [sys.executable, "-m", "harness", "run", "--model", "tiny", "--models", str(models), "--task", "arith",
            "-k", "4", "--limit", "40", "--db", str(db), "--no-progress", "--json"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stored = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.3)
        try:
            stored = Store(db, read_only=True, lock_timeout=2).query("SELECT count(*) AS n FROM generations")[0]["n"]
        except Exception:
            continue
        if stored >= 24:
            break
    assert proc.poll() is None, "run finished before it could be killed: make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)["tasks"][0]
    assert t["generated"] + t["reused"] == 160
    assert t["reused"] >= 24 and t["generated"] < 160
    counts = Store(db).query("SELECT count(*) AS n, count(DISTINCT gen_key) AS d, "
                             "count(DISTINCT (prompt_hash, sample_index)) AS slots FROM generations")[0]
    assert counts == {"n": 160, "d": 160, "slots": 160}
