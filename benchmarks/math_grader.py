"""Throughput and latency of the math grader against baselines measured in the same run.

Workload: for every MATH-500 item (from `--data-dir`, default ../shared/data) four responses: the full
reference solution (the answer must be extracted from long text), the gold answer re-spelled in a model's
style ("The answer is $...$", \\dfrac, spacing), the gold as a decimal where it is a terminating rational,
and a wrong answer (the next item's gold, boxed). Plus, separately, GSM8K solutions against their golds
(plain numbers: the in-process fast path).

Measured, all cold-cache (a fresh grader's caches are cleared before each timed pass):
- ours, batched: `MathGrader.grade` on batches of 64 items, `--workers` worker processes (default 1);
- ours, per pair: one pair per `grade` call (a latency profile: p50 / p99);
- naive: the same symbolic checks, but one process round trip per comparison, no fast path, no batching;
- math-verify (if installed): `parse` + `verify` per pair on the main thread (its own signal-based
  time limits), which is how it is normally called.
Prints pairs per second and p99 latency per grader and the ratios, how often the graders agree, and
how many of the hand-labelled golden cases (tests/math_golden.py) each grader gets right.

    python benchmarks/math_grader.py [--limit 500] [--workers 1] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from harness.grading.math import MathGrader
from harness.grading.math.extract import extract_answer, last_boxed
from harness.grading.math.normalize import clean_answer
from harness.grading.math.parse import ParseError, parse_answer
from harness.grading.math.pool import WorkerPool
from harness.grading.math.rational import rational_of
from harness.grading.math.symbolic import Options
from harness.records import Item

REPO = Path(__file__).resolve().parents[1]


def math500_pairs(data_dir: Path, limit: int | None) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (data_dir / "math500_test.jsonl").open()]
    if limit:
        rows = rows[:limit]
    pairs = []
    for i, row in enumerate(rows):
        gold = row["answer"]
        pairs.append((gold, row["solution"]))
        styled = gold.replace("\\frac", "\\dfrac").replace(" ", "")
        pairs.append((gold, f"Putting it together, the answer is ${styled}$."))
        try:
            value = rational_of(parse_answer(clean_answer(gold)))
        except ParseError:
            value = None
        if value is not None and value.denominator in (1, 2, 4, 5, 8, 10, 20, 25, 50, 100):
            decimal = str(value.numerator) if value.denominator == 1 else f"{float(value):.6f}".rstrip("0")
            pairs.append((gold, f"\\boxed{{{decimal}}}"))
        else:
            pairs.append((gold, f"So we get \\boxed{{ {gold} }} ."))
        pairs.append((gold, f"\\boxed{{{rows[(i + 1) % len(rows)]['answer']}}}"))
    return pairs


def gsm8k_pairs(data_dir: Path, limit: int | None) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (data_dir / "gsm8k_test.jsonl").open()]
    if limit:
        rows = rows[: limit * 2]
    return [(r["answer"].rsplit("####", 1)[1].strip().replace(",", ""), r["answer"]) for r in rows]


def _fresh(grader: MathGrader) -> None:
    grader._parsed.clear()
    grader._canon.clear()
    grader._equiv.clear()


def run_ours_batched(pairs, workers: int) -> tuple[float, list[str]]:
    with MathGrader(workers=workers) as g:
        g.grade_pairs([("\\sqrt{2}", "\\sqrt{3}")])  # start the pool outside the timing
        _fresh(g)
        t = time.perf_counter()
        verdicts: list[str] = []
        for start in range(0, len(pairs), 64):
            chunk = pairs[start: start + 64]
            verdicts += [x[0].verdict for x in g.grade([(Item(str(i), gd), [r]) for i, (gd, r) in enumerate(chunk)])]
        return time.perf_counter() - t, verdicts


def run_ours_single(pairs, workers: int) -> list[float]:
    with MathGrader(workers=workers) as g:
        g.grade_pairs([("\\sqrt{2}", "\\sqrt{3}")])
        lat = []
        for gold, resp in pairs:
            _fresh(g)
            t = time.perf_counter()
            g.grade_pairs([(gold, resp)])
            lat.append(time.perf_counter() - t)
        return lat


def run_naive(pairs) -> tuple[float, list[float]]:
    """One process round trip per comparison: extraction and parsing as ours, then one `equiv` job sent
    alone to a worker (no fast path, no batching, no cache)."""
    opts = Options()
    with WorkerPool(size=1, timeout_s=5.0) as pool:
        pool.run([("canon", ("num", "1"), opts)])
        lat = []
        t0 = time.perf_counter()
        for gold, resp in pairs:
            t = time.perf_counter()
            try:
                a = parse_answer(clean_answer(gold if "\\boxed" not in gold else last_boxed(gold) or gold))
                b = parse_answer(clean_answer(extract_answer(resp).text or ""))
                pool.run([("equiv", a, b, opts)])
            except ParseError:
                pass
            lat.append(time.perf_counter() - t)
        return time.perf_counter() - t0, lat


def _mv_text(s: str) -> str:
    """What math-verify is given: text with math delimiters or a box as it is; a short bare answer
    (as in the gold field) inside $...$, which is how its docs show bare LaTeX being passed."""
    if "$" in s.replace("\\$", "") or "\\boxed" in s or len(s) > 80 or "\n" in s:
        return s
    return "$" + s + "$"


def run_math_verify(pairs) -> tuple[float, list[float], list[bool]] | None:
    try:
        from math_verify import parse, verify
    except ImportError:
        return None
    lat, ok = [], []
    t0 = time.perf_counter()
    for gold, resp in pairs:
        t = time.perf_counter()
        try:
            ok.append(bool(verify(parse(_mv_text(gold)), parse(_mv_text(resp)))))
        except Exception:
            ok.append(False)
        lat.append(time.perf_counter() - t)
    return time.perf_counter() - t0, lat, ok


def p99(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100)[98] if len(xs) >= 100 else max(xs)


def report(name: str, pairs, workers: int, mv: bool) -> None:
    print(f"\n== {name}: {len(pairs)} (gold, response) pairs; ours with {workers} worker process(es) ==")
    t_ours, verdicts = run_ours_batched(pairs, workers)
    lat_ours = run_ours_single(pairs, workers)
    t_naive, lat_naive = run_naive(pairs)
    rows = [("ours (batched)", len(pairs) / t_ours, None),
            ("ours (one pair per call)", len(pairs) / sum(lat_ours), p99(lat_ours)),
            ("naive (round trip per check)", len(pairs) / t_naive, p99(lat_naive))]
    mv_res = run_math_verify(pairs) if mv else None
    if mv_res is not None:
        t_mv, lat_mv, ok_mv = mv_res
        rows.append(("math-verify 0.9 (main thread)", len(pairs) / t_mv, p99(lat_mv)))
    for label, rate, tail in rows:
        print(f"  {label:32s} {rate:10.1f} pairs/s" + (f"   p99 {1000 * tail:8.2f} ms" if tail is not None else ""))
    base = rows[0][1]
    print(f"  ratio ours(batched) / naive:        {base / rows[2][1]:6.1f}x")
    if mv_res is not None:
        print(f"  ratio ours(batched) / math-verify:  {base / rows[3][1]:6.1f}x")
        print(f"  ratio ours(per pair) / math-verify: {rows[1][1] / rows[3][1]:6.1f}x")
        agree = sum((v == "correct") == o for v, o in zip(verdicts, ok_mv))
        print(f"  agreement with math-verify: {agree}/{len(pairs)}")
        shown = 0
        for (gold, resp), v, o in zip(pairs, verdicts, ok_mv):
            if (v == "correct") != o and shown < 8:
                shown += 1
                print(f"    differ: gold {gold[:40]!r} resp {resp[-60:]!r}: ours {v}, math-verify {o}")
    correct = sum(v == "correct" for v in verdicts)
    print(f"  ours: {correct}/{len(pairs)} correct, verdicts {dict((k, verdicts.count(k)) for k in sorted(set(verdicts)))}")


def golden_accuracy(mv: bool) -> None:
    """Share of the golden suite (tests/math_golden.py: hand-written expected verdicts) each grader gets
    right, counting "correct" against everything else."""
    sys.path.insert(0, str(REPO / "tests"))
    from math_golden import CASES

    pairs = [(gold, resp) for _, gold, resp, _ in CASES]
    expected = [exp == "correct" for *_, exp in CASES]
    with MathGrader(timeout_s=10) as g:
        ours = [x.verdict == "correct" for x in g.grade_pairs(pairs)]
    print(f"\n== golden suite: {len(CASES)} hand-labelled cases ==")
    print(f"  ours:        {sum(o == e for o, e in zip(ours, expected))}/{len(CASES)} agree with the label")
    res = run_math_verify(pairs) if mv else None
    if res is not None:
        ok = res[2]
        print(f"  math-verify: {sum(o == e for o, e in zip(ok, expected))}/{len(CASES)} agree with the label")
        groups: dict[str, int] = {}
        for (group, *_), o, e in zip(CASES, ok, expected):
            if o != e:
                groups[group] = groups.get(group, 0) + 1
        print(f"  math-verify misses by group: {dict(sorted(groups.items(), key=lambda kv: -kv[1]))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--limit", type=int, default=None, help="MATH-500 items (and 2x GSM8K items) to use")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--no-math-verify", action="store_true")
    args = ap.parse_args()
    if not (args.data_dir / "math500_test.jsonl").exists():
        sys.exit(f"no math500_test.jsonl in {args.data_dir}: pass --data-dir")
    report("MATH-500", math500_pairs(args.data_dir, args.limit), args.workers, not args.no_math_verify)
    report("GSM8K", gsm8k_pairs(args.data_dir, args.limit), args.workers, not args.no_math_verify)
    golden_accuracy(not args.no_math_verify)


if __name__ == "__main__":
    main()
