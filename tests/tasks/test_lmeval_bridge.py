"""The lm-eval bridge: `harness ingest lm-eval DIR` on output written by a real `lm_eval` run made
here, and `harness run --task lm_eval:NAME` on the same lm-eval task, checked against lm-eval's own
per-document numbers and prompts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lm_eval", reason="lm-eval is not installed: pip install 'harness[lmeval]'")

from harness.errors import HarnessError, UnknownTask  # noqa: E402
from harness.tasks._lmeval import scorer_from_config, task_sampling  # noqa: E402
from harness.store import Store  # noqa: E402
from lmeval_util import LIMIT, REPEATS, TASK, offline_env, run_lm_eval, write_task  # noqa: E402

HARNESS = str(Path(sys.executable).with_name("harness"))

GSM_LIKE = {
    "task": "gsm_like", "output_type": "generate_until",
    "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                     "ignore_case": True, "regexes_to_ignore": [",", "\\$"]}],
    "filter_list": [{"name": "strict", "filter": [{"function": "regex",
                                                   "regex_pattern": "The answer is (\\$?\\-?[0-9\\.\\,a-zA-Z]+)"},
                                                  {"function": "take_first"}]}],
}


# -- fast: scoring one sample the task's way ---------------------------------------------------

def test_scorer_from_config_grades_each_sample_with_the_tasks_filter_and_metric():
    s = scorer_from_config(GSM_LIKE)
    grades = s.grade({}, "1200", ["The answer is 1,200", "so The answer is 1200", "I give up",
                                  "The answer is 7", "The answer is $1200"])
    assert [g.verdict for g in grades] == ["correct", "correct", "unparseable", "incorrect", "correct"]
    # samples vote together when the task's own metric says their answers match (1,200 == 1200 == $1200)
    assert [g.cls for g in grades] == [0, 0, None, 1, 0]


def test_scorer_classes_follow_metric_options():
    s = scorer_from_config(GSM_LIKE)
    grades = s.grade({}, "abc", ["The answer is abc", "The answer is ABC", "The answer is abd"])
    assert [g.cls for g in grades] == [0, 0, 1]  # ignore_case: abc and ABC are one answer


def test_scorer_refuses_non_binary_metric_and_unknown_filter():
    bleu = dict(GSM_LIKE, metric_list=[{"metric": "bleu"}])
    with pytest.raises(HarnessError, match="right/wrong"):
        scorer_from_config(bleu).grade({}, "the cat sat", ["The answer is cat"])
    with pytest.raises(UnknownTask, match="no filter 'nope'.*strict"):
        scorer_from_config(GSM_LIKE, "nope")


def test_task_sampling_keeps_greedy_temperature_to_the_model():
    assert task_sampling({"until": ["Q:"], "do_sample": False, "temperature": 0.0}) == \
        {"max_tokens": 256, "stop": ("Q:",)}
    assert task_sampling({"until": "\n\n", "do_sample": True, "temperature": 0.2, "max_gen_toks": 64}) == \
        {"max_tokens": 64, "stop": ("\n\n",), "temperature": 0.2}


# -- slow: a real lm_eval run ------------------------------------------------------------------

@pytest.fixture(scope="module")
def lm_eval_run(tmp_path_factory):
    pytest.importorskip("accelerate", reason="lm-eval's hf model needs accelerate (pip install accelerate)")
    from harness.training.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("lmeval")
    model = build_tiny_model(root / "tiny")
    tasks = write_task(root)
    out = run_lm_eval(model, tasks, root / "out")
    results = next(out.rglob("results_*.json"))
    samples = next(out.rglob(f"samples_{TASK}_*.jsonl"))
    lines = [json.loads(x) for x in samples.read_text().splitlines() if x.strip()]
    return {"root": root, "model": model, "tasks": tasks, "out": out, "results": json.loads(results.read_text()),
            "lines": lines}


def harness(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([HARNESS, *args], capture_output=True, text=True, env=env or offline_env(), timeout=900)


@pytest.mark.slow
def test_ingest_real_lm_eval_output(lm_eval_run, tmp_path):
    db = tmp_path / "r.duckdb"
    p = harness("ingest", "lm-eval", str(lm_eval_run["out"]), "--db", str(db), "--model", "tiny-lmeval", "--json")
    assert p.returncode == 0, p.stderr[-3000:]
    (run,) = json.loads(p.stdout)
    (t,) = run["tasks"]
    assert (t["task"], t["n_items"], t["k"], t["reused"], t["generated"]) == (f"lm_eval:{TASK}", LIMIT, REPEATS,
                                                                              LIMIT * REPEATS, 0)
    store = Store(db, read_only=True)
    first = {str(x["doc_id"]): x for x in lm_eval_run["lines"] if x["filter"] == "first-number"}
    # every repeat is stored as it was generated
    gens = store.query("SELECT g.text, s.item_id, s.sample_index, s.verdict, s.extracted FROM scores s "
                       "JOIN generations g USING (gen_key) WHERE s.run_id = ?", [run["run_id"]])
    assert len(gens) == LIMIT * REPEATS
    for g in gens:
        assert g["text"] == first[g["item_id"]]["resps"][0][g["sample_index"]]
    # sample 0 graded by the harness == lm-eval's own per-document score for its take-first filter
    for g in gens:
        if g["sample_index"] == 0:
            lm = first[g["item_id"]]
            assert g["extracted"] == lm["filtered_resps"][0]
            assert (g["verdict"] == "correct") == (lm["exact_match"] == 1.0)
    # and so the run's sample-0 accuracy is lm-eval's reported number
    n0 = sum(g["verdict"] == "correct" for g in gens if g["sample_index"] == 0)
    assert n0 / LIMIT == lm_eval_run["results"]["results"][TASK]["exact_match,first-number"]
    runs = store.query("SELECT source, model_name, k FROM runs WHERE run_id = ?", [run["run_id"]])
    assert runs == [{"source": "lm_eval", "model_name": "tiny-lmeval", "k": REPEATS}]


@pytest.mark.slow
def test_ingest_refuses_output_without_samples(lm_eval_run, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(next(lm_eval_run["out"].rglob("results_*.json")), bare)
    p = harness("ingest", "lm-eval", str(bare), "--db", str(tmp_path / "r.duckdb"))
    assert p.returncode == 2 and "--log_samples" in p.stderr


@pytest.mark.slow
def test_lm_eval_task_through_harness(lm_eval_run, tmp_path):
    env = offline_env(lm_eval_run["tasks"])
    db = tmp_path / "r.duckdb"
    args = ["run", "--model", f"hf:{lm_eval_run['model']}", "--task", f"lm_eval:{TASK}", "--limit", str(LIMIT),
            "--db", str(db), "--json", "--no-progress"]
    p = harness(*args, "-k", "2", env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    (t,) = json.loads(p.stdout)["tasks"]
    assert (t["task"], t["n_items"], t["k"], t["generated"]) == (f"lm_eval:{TASK}", LIMIT, 2, 2 * LIMIT)
    # items are lm-eval's doc_ids and prompts are lm-eval's own few-shot contexts, byte for byte
    store = Store(db, read_only=True)
    rows = store.query("SELECT i.item_id, p.prompt FROM items i, prompts p "
                       "WHERE i.task = ? AND json_extract_string(i.prompt_hashes, '$[0]') = p.prompt_hash",
                       [f"lm_eval:{TASK}"])
    logged = {str(x["doc_id"]): x["arguments"]["gen_args_0"]["arg_0"] for x in lm_eval_run["lines"]}
    assert {r["item_id"]: json.loads(r["prompt"])["text"] for r in rows} == logged
    # the task's sampling: until -> stop strings, max_gen_toks -> max_tokens, its temperature (it samples)
    sampling = store.query("SELECT sampling FROM runs")[0]["sampling"]
    assert json.loads(sampling)["stop"] == ["Question:", "\n\n"] and json.loads(sampling)["max_tokens"] == 16
    # raising k generates only the new samples
    p = harness(*args, "-k", "3", env=env)
    (t,) = json.loads(p.stdout)["tasks"]
    assert (t["generated"], t["reused"]) == (LIMIT, 2 * LIMIT)


@pytest.mark.slow
@pytest.mark.parametrize("name,msg", [("lm_eval:arc_easy", "output_type multiple_choice"),
                                      ("lm_eval:no_such_task_x", "knows no task"),
                                      ("lm_eval:", "write lm_eval:NAME")])
def test_lm_eval_task_refusals(name, msg):
    from harness.tasks import get_task

    with pytest.raises(UnknownTask, match=msg):
        get_task(name)
