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

Then the answer-form check (`math_forms.py`): MATH-500 gold answers rendered in the forms of issue 15,
with ground truth by construction (from neither grader). Per family: each grader's accuracy against the
truth; totals over the pairs any grader should get right and over all (convention pairs graded by ours
with the flag their truth assumes, and by ours with the defaults); the disagreements between the two
graders counted by family and by who is right, with examples.

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


def forms_report(data_dir: Path, mv: bool, shown: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from math_forms import form_pairs

    pairs = form_pairs(data_dir)
    print(f"\n== answer forms: {len(pairs)} pairs from MATH-500 golds, truth by construction ==")
    ours: list[bool] = [False] * len(pairs)
    ours_default: list[bool] = [False] * len(pairs)
    by_conv: dict[str | None, list[int]] = {}
    for i, p in enumerate(pairs):
        by_conv.setdefault(p.convention, []).append(i)
    t_ours = 0.0
    for conv, idx in by_conv.items():
        opts = {}
        if conv is not None:
            key, value = conv.split("=")
            opts[key] = value == "True" if value in ("True", "False") else value
        sub = [(pairs[i].gold, pairs[i].response) for i in idx]
        for target, options in ((ours, opts), (ours_default, {})):
            with MathGrader(workers=1, **options) as g:
                g.grade_pairs([("\\sqrt{2}", "\\sqrt{3}")])
                _fresh(g)
                t = time.perf_counter()
                got = []
                for start in range(0, len(sub), 64):
                    got += [x.verdict == "correct" for x in g.grade_pairs(sub[start: start + 64])]
                if conv is None:
                    t_ours += time.perf_counter() - t
            for i, v in zip(idx, got):
                target[i] = v
    mv_ok: list[bool] | None = None
    t_mv = None
    if mv:
        res = run_math_verify([(p.gold, p.response) for p in pairs])
        if res is not None:
            mv_ok = res[2]
            t_mv = sum(lat for lat, p in zip(res[1], pairs) if p.convention is None)
    families = sorted({p.family for p in pairs}, key=lambda f: [p.family for p in pairs].index(f))
    print(f"  {'family':14s} {'pairs':>6s} {'ours':>8s} {'ours(default)':>14s} {'math-verify':>12s}  convention")
    for fam in families:
        idx = [i for i, p in enumerate(pairs) if p.family == fam]
        n = len(idx)
        acc = sum(ours[i] == pairs[i].truth for i in idx) / n
        acc_d = sum(ours_default[i] == pairs[i].truth for i in idx) / n
        acc_mv = sum(mv_ok[i] == pairs[i].truth for i in idx) / n if mv_ok else float("nan")
        conv = pairs[idx[0]].convention or ""
        print(f"  {fam:14s} {n:6d} {100 * acc:7.1f}% {100 * acc_d:13.1f}% {100 * acc_mv:11.1f}%  {conv}")
    for label, idx in (("any grader should agree", [i for i, p in enumerate(pairs) if p.convention is None]),
                       ("all pairs", list(range(len(pairs))))):
        a = sum(ours[i] == pairs[i].truth for i in idx) / len(idx)
        ad = sum(ours_default[i] == pairs[i].truth for i in idx) / len(idx)
        am = sum(mv_ok[i] == pairs[i].truth for i in idx) / len(idx) if mv_ok else float("nan")
        print(f"  total, {label:24s} {len(idx):6d}: ours {100 * a:.2f}%  ours(default flags) {100 * ad:.2f}%  "
              f"math-verify {100 * am:.2f}%")
    if t_mv is not None:
        n_free = len(by_conv.get(None, []))
        print(f"  speed on the {n_free} convention-free pairs: ours {n_free / t_ours:.1f} pairs/s, math-verify "
              f"{n_free / t_mv:.1f} pairs/s, ratio {t_mv / t_ours:.1f}x")
    if mv_ok is None:
        return
    diff = [i for i in range(len(pairs)) if ours[i] != mv_ok[i]]
    print(f"  disagreements with math-verify: {len(diff)}")
    table: dict[tuple[str, str], list[int]] = {}
    for i in diff:
        who = "ours right" if ours[i] == pairs[i].truth else "math-verify right"
        table.setdefault((pairs[i].family, who), []).append(i)
    for (fam, who), idx in sorted(table.items(), key=lambda kv: -len(kv[1])):
        print(f"    {fam:14s} {who:18s} {len(idx):5d}")
        for i in idx[:shown]:
            p = pairs[i]
            print(f"        gold {p.gold[:40]!r} response {p.response[:70]!r} truth {p.truth}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--limit", type=int, default=None, help="MATH-500 items (and 2x GSM8K items) to use")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--no-math-verify", action="store_true")
    ap.add_argument("--forms-only", action="store_true", help="only the answer-form check")
    ap.add_argument("--show", type=int, default=3, help="examples per disagreement group")
    args = ap.parse_args()
    if not (args.data_dir / "math500_test.jsonl").exists():
        sys.exit(f"no math500_test.jsonl in {args.data_dir}: pass --data-dir")
    if not args.forms_only:
        report("MATH-500", math500_pairs(args.data_dir, args.limit), args.workers, not args.no_math_verify)
        report("GSM8K", gsm8k_pairs(args.data_dir, args.limit), args.workers, not args.no_math_verify)
        golden_accuracy(not args.no_math_verify)
    forms_report(args.data_dir, not args.no_math_verify, args.show)


if __name__ == "__main__":
    main()
