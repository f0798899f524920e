"""Hard prompts -> verified numeric questions: parsing, the acceptance rule with a fake backend,
statistics, and the real transformers path with a tiny random model (garbage in, rejected with reasons)."""

import json
import os
import subprocess
import sys

import pytest

from harness.store import Store

from fakes import FakeBackend
from harness.grading.math import MathGrader
from harness.synth.rewrite import REASONS, RewriteConfig, is_numeric_ast, parse_sections, prompts_from_rows, rewrite

SECTIONS = [
    ("QUESTION: What is 2+2?\nSOLUTION: add\nANSWER: 4", ("What is 2+2?", "add", "4")),
    ("**QUESTION:** Q here\n**SOLUTION:** s\n**ANSWER:** $\\frac{1}{2}$.", ("Q here", "s", "\\frac{1}{2}")),
    ("question: multi\nline\nanswer: 7\nmore text", ("multi\nline", None, "7")),
    ("## Question: q\n## Answer:", ("q", None, None)),
    ("random garbage 12 34", (None, None, None)),
]


@pytest.mark.parametrize("text,expected", SECTIONS)
def test_parse_sections(text, expected):
    s = parse_sections(text)
    assert (s.question, s.solution, s.answer) == expected


NUMERIC = [("55", True), ("3/4", True), ("2\\sqrt{3}", True), ("\\pi/6", True), ("\\binom{5}{2}", True),
           ("\\sin(\\pi/6)", True), ("10\\%", True), ("-3", True), ("x+1", False), ("(1,2)", False),
           ("\\{1,2\\}", False), ("x=3", False), ("yes", False), ("\\infty", False), ("i", False), ("(B)", False)]


@pytest.mark.parametrize("answer,numeric", NUMERIC)
def test_numeric_closed_forms(answer, numeric):
    parsed = MathGrader().parse(answer, gold=True)
    assert parsed.ast is not None and is_numeric_ast(parsed.ast) is numeric


def _fake_answer(prompt: str, rng) -> str:
    """Rewriter and solver in one: the rewrite depends on the prompt, the solves on the question."""
    if prompt.startswith("Rewrite"):
        if "sum of integers" in prompt:
            return "QUESTION: What is the sum of the first 10 positive integers?\nSOLUTION: 10*11/2\nANSWER: 55"
        if "symbolic" in prompt:
            return "QUESTION: For an integer x, what is x plus one?\nSOLUTION: x+1\nANSWER: x+1"
        if "primes" in prompt:
            return "**QUESTION:** How many primes are below 10?\n**SOLUTION:** 2, 3, 5, 7\n**ANSWER:** $4$"
        if "broken" in prompt:
            return "QUESTION: Compute the value of the given thing exactly.\nANSWER: \\frac{1}{"
        if "halves" in prompt:
            return "QUESTION: What is one half written as a decimal?\nANSWER: 1/2"
        return "I cannot rewrite this."
    if "sum of the first 10" in prompt:
        return "Pair them up: \\boxed{55}"
    if "one half" in prompt:
        return rng.choice(["\\boxed{0.5}", "\\boxed{\\frac{1}{2}}", "\\boxed{\\tfrac12}"])
    return f"\\boxed{{{rng.randint(3, 6)}}}"  # primes: mostly wrong


PROMPTS = [("p0", "Prove the formula for the sum of integers."), ("p1", "A symbolic identity."),
           ("p2", "Show there are few primes."), ("p3", "A broken one."), ("p4", "Thirds and halves."),
           ("p5", "Something else.")]


def test_pipeline_accepts_only_confirmed_numeric_rewrites():
    result = rewrite(PROMPTS, FakeBackend(_fake_answer), config=RewriteConfig(k=5))
    reasons = {c.source_id: c.reason for c in result.candidates}
    assert reasons == {"p0": "accepted", "p1": "answer_not_numeric", "p2": "solvers_disagree",
                       "p3": "answer_unparseable", "p4": "accepted", "p5": "no_question"}
    # 1/2, 0.5 and \tfrac12 are one answer under symbolic equivalence.
    p4 = next(c for c in result.candidates if c.source_id == "p4")
    assert p4.agree == 5 and len(p4.solves) == 5
    assert [i.id for i in result.items] == ["p0/r0", "p4/r0"]
    assert result.items[0].gold == "55" and result.items[0].meta["agree"] == 5
    stats = result.stats()
    assert stats["candidates"] == 6 and stats["accepted"] == 2 and sum(stats["by_reason"].values()) == 6
    assert set(stats["by_reason"]) <= set(REASONS)


def test_stronger_solver_decides():
    """The solver, not the rewriter, is asked to solve: a solver that gets primes right accepts p2."""
    solver = FakeBackend(lambda prompt, rng: "\\boxed{4}")
    result = rewrite(PROMPTS[2:3], FakeBackend(_fake_answer), solver, RewriteConfig(k=3, rewrites=2))
    assert [c.reason for c in result.candidates] == ["accepted", "accepted"]
    assert [i.id for i in result.items] == ["p2/r0", "p2/r1"]
    assert all("Solve" in text for call in solver.calls for text, _, _ in call)


def test_prompts_from_rows():
    assert prompts_from_rows([(0, {"prompt": "a"}), (1, {"id": "x", "problem": "b"})]) == [("0", "a"), ("x", "b")]
    with pytest.raises(ValueError, match="line 3"):
        prompts_from_rows([(2, {"other": 1})])


def _expected_reason(raw: str) -> str:
    """An independent oracle for the first failing check on a rewrite."""
    s = parse_sections(raw)
    if s.question is None or len(s.question) < 15:
        return "no_question"
    if s.answer is None:
        return "no_answer"
    parsed = MathGrader().parse(s.answer, gold=True)
    if parsed.ast is None:
        return "answer_unparseable"
    if not is_numeric_ast(parsed.ast):
        return "answer_not_numeric"
    return "solvers_disagree"


@pytest.mark.slow
def test_tiny_random_model_through_the_cli_rejects_garbage_with_reasons(tmp_path, tiny_model):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("\n".join(json.dumps({"id": f"h{i}", "prompt": p}) for i, p in enumerate(
        ["Prove that the square root of 2 is irrational.", "Show that there are infinitely many primes.",
         "Which of the following is a prime? (A) 4 (B) 6 (C) 7"])) + "\n")
    out, log = tmp_path / "synth_rewrites.jsonl", tmp_path / "log.jsonl"
    cmd = [sys.executable, "-m", "harness", "synth", "rewrite", "--model", f"hf:{tiny_model}",
           "--in", prompts, "--out", out, "--log", log, "-k", "2", "--rewrites", "2",
           "--max-tokens", "40", "--db", tmp_path / "synth.duckdb", "--json"]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["candidates"] == 6 and stats["accepted"] == 0 and stats["written"] == 0
    assert sum(stats["by_reason"].values()) == 6
    assert stats["generated"] > 0 and stats["reused"] == 0
    first_log = log.read_text()
    # Every rewrite and solve is stored under a run: the rerun asks the model for nothing.
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 0, again.stderr
    stats2 = json.loads(again.stdout)
    assert stats2["generated"] == 0 and stats2["reused"] == stats["generated"]
    assert log.read_text() == first_log
    runs = Store(tmp_path / "synth.duckdb", read_only=True).runs()
    assert [r["status"] for r in runs] == ["done", "done"] and {r["model_name"] for r in runs} == {f"hf:{tiny_model}"}
    assert out.read_text() == ""
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == 6
    for row in rows:
        assert row["reason"] == _expected_reason(row["raw"]), row


@pytest.mark.slow
def test_tiny_random_model_as_solver_does_not_confirm_a_rewrite(tiny_model):
    """A well-formed rewrite reaches the solve stage; the random model's k solves do not agree with it."""
    from harness.backends.hf import HFBackend
    from harness.models import ModelSpec
    from harness.records import Sampling

    solver = HFBackend(ModelSpec(name="tiny", backend="hf", model=str(tiny_model)))
    try:
        sampling = Sampling(max_tokens=24, temperature=1.0)
        result = rewrite(PROMPTS[:1], FakeBackend(_fake_answer), solver,
                         RewriteConfig(k=3, rewrite_sampling=sampling, solve_sampling=sampling))
    finally:
        solver.close()
    (cand,) = result.candidates
    assert cand.reason == "solvers_disagree" and cand.agree == 0 and len(cand.solves) == 3
    assert set(cand.solve_verdicts) <= {"incorrect", "unparseable"} and result.items == ()
