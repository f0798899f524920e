"""Hard prompts (proofs, free-form questions) -> verifiable numeric questions, written by a model.

Pipeline, for a batch of prompts:
1. **rewrite**: the rewriter model is asked (`REWRITE_TEMPLATE`) for a self-contained question with a
   single numeric answer, a worked solution and the answer, in labelled sections;
2. **parse**: a candidate is rejected unless it has the three sections, its answer parses with the
   math grader's bounded parser (never `eval`/`sympify`), and the answer is a number or a closed
   form with no variables, sets, tuples, relations or words (`3/4`, `2\\sqrt{3}`, `\\pi/6`);
3. **verify**: the solver model (the rewriter itself, or a stronger one) answers the new question
   `k` times independently; the candidate is accepted only when a strict majority of the k answers is
   equivalent to its answer under the math grader's symbolic check.
Every candidate gets exactly one outcome (`accepted` or the first reason it failed), so acceptance
statistics count every candidate once. Accepted candidates become Items `<source id>/r<j>`.

`harness synth rewrite` hands `rewrite` backends that answer from the results store first
(`harness.pipeline.generate.StoredGenerator`): a rerun or a resumed crash asks the models only for
what is missing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from harness.grading.math import MathGrader
from harness.records import Completion, Item, Message, Prompt, Request, Sampling, sample_seed

REWRITE_TEMPLATE = """Rewrite the problem below into a new, self-contained problem that has exactly one \
correct answer, and that answer is a single number (an integer, a fraction, or a closed form such as \
2\\sqrt{{3}} or \\pi/6). Keep the mathematical heart of the original: a proof becomes "compute the \
quantity the proof is about"; a multiple-choice or open question becomes a question about one number.

Reply in exactly this format, with nothing after the answer line:
QUESTION: <the new problem>
SOLUTION: <a short worked solution>
ANSWER: <the final answer, the number only>

Problem:
{prompt}"""

SOLVE_TEMPLATE = """Solve the following problem. Think step by step, then write the final answer, a single \
number, as \\boxed{{...}}.

Problem:
{question}"""

REASONS = ("accepted", "no_question", "no_answer", "answer_unparseable", "answer_not_numeric",
           "solvers_disagree")

_SECTION = re.compile(r"^[ \t]*(?:\*\*|#+[ \t]*)?(QUESTION|SOLUTION|ANSWER)[ \t]*(?:\*\*)?[ \t]*:[ \t]*(?:\*\*)?",
                      re.IGNORECASE | re.MULTILINE)
# AST node kinds of a numeric closed form (see harness.grading.math.parse); anything else is not one number.
_NUMERIC_NODES = frozenset({"num", "const", "neg", "+", "-", "*", "/", "^", "mixed", "fn", "log", "root", "fact",
                            "pct", "deg", "abs", "floor", "ceil", "binom"})
MIN_QUESTION_CHARS = 15


@dataclass(frozen=True, slots=True)
class Sections:
    question: str | None
    solution: str | None
    answer: str | None


def parse_sections(text: str) -> Sections:
    """The QUESTION / SOLUTION / ANSWER sections of a rewrite (labels in any case, optionally bold)."""
    found: dict[str, str] = {}
    marks = list(_SECTION.finditer(text))
    for m, nxt in zip(marks, marks[1:] + [None]):
        label = m.group(1).upper()
        body = text[m.end(): nxt.start() if nxt else len(text)].strip()
        if label not in found and body:
            found[label] = body
    answer = found.get("ANSWER")
    if answer is not None:
        answer = answer.splitlines()[0]
        previous = None
        while answer != previous:  # peel `**`, `$...$` and a final period, in any nesting
            previous = answer
            answer = answer.strip().strip("*").strip().rstrip(".").strip()
            answer = re.sub(r"^\$+|\$+$", "", answer)
        answer = answer or None
    return Sections(found.get("QUESTION"), found.get("SOLUTION"), answer)


def is_numeric_ast(node: Any) -> bool:
    """True when a parsed answer is one number or closed form: no symbols, tuples, sets or words.
    `const` must be pi or E (not the imaginary unit or infinity)."""
    if not isinstance(node, tuple) or not node or node[0] not in _NUMERIC_NODES:
        return False
    if node[0] == "const":
        return node[1] in ("pi", "E")
    if node[0] == "num":
        return True
    if node[0] == "fn":
        return is_numeric_ast(node[2])
    if node[0] == "log":
        return (node[1] is None or is_numeric_ast(node[1])) and is_numeric_ast(node[2])
    return all(is_numeric_ast(child) for child in node[1:] if isinstance(child, tuple))


@dataclass(frozen=True)
class Candidate:
    """One rewrite of one prompt and its outcome."""

    source_id: str
    index: int
    raw: str
    question: str | None = None
    solution: str | None = None
    answer: str | None = None
    reason: str = "accepted"
    detail: str | None = None
    agree: int | None = None  # solver answers equivalent to `answer`
    solves: tuple[str, ...] = ()
    solve_verdicts: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"source_id": self.source_id, "index": self.index, "reason": self.reason, "detail": self.detail,
                "question": self.question, "answer": self.answer, "agree": self.agree, "k": len(self.solves),
                "solve_verdicts": list(self.solve_verdicts), "raw": self.raw}


@dataclass(frozen=True)
class RewriteConfig:
    rewrites: int = 1  # candidates per prompt
    k: int = 5  # independent solves per candidate
    rewrite_sampling: Sampling = field(default_factory=lambda: Sampling(max_tokens=1024, temperature=0.7))
    solve_sampling: Sampling = field(default_factory=lambda: Sampling(max_tokens=1024, temperature=0.7))


@dataclass(frozen=True)
class RewriteResult:
    candidates: tuple[Candidate, ...]
    items: tuple[Item, ...]

    def stats(self) -> dict[str, Any]:
        """Counts per outcome (every candidate once) and the acceptance rate."""
        counts = Counter(c.reason for c in self.candidates)
        total = len(self.candidates)
        return {"candidates": total, "accepted": counts.get("accepted", 0),
                "acceptance_rate": (counts.get("accepted", 0) / total) if total else 0.0,
                "by_reason": {r: counts.get(r, 0) for r in REASONS if counts.get(r, 0)},
                "prompts": len({c.source_id for c in self.candidates}),
                "prompts_with_accepted": len({c.source_id for c in self.candidates if c.reason == "accepted"})}


def _chat(content: str) -> Prompt:
    return Prompt(text=content + "\n", messages=(Message("user", content),))


def _generate(backend: Any, prompts: Sequence[Prompt], k: int, params: Sampling) -> list[list[str]]:
    """k completions per prompt, in batches of the backend's size."""
    requests = [Request(p, tuple(range(k)), tuple(sample_seed(params.seed, p.hash, i) for i in range(k)))
                for p in prompts]
    out: list[list[str]] = []
    step = max(1, int(getattr(backend, "batch_size", 8)) // max(1, k))
    for start in range(0, len(requests), step):
        batch = requests[start: start + step]
        comps: list[list[Completion]] = backend.generate(batch, params)
        if len(comps) != len(batch) or any(len(c) != k for c in comps):
            raise RuntimeError(f"backend {getattr(backend, 'name', '?')} returned the wrong number of completions")
        out += [[c.text for c in per] for per in comps]
    return out


def _check_candidate(cand: Candidate, grader: MathGrader) -> Candidate:
    """Stage 2: sections present, answer parses, answer is one number."""
    s = parse_sections(cand.raw)
    base = dict(source_id=cand.source_id, index=cand.index, raw=cand.raw, question=s.question,
                solution=s.solution, answer=s.answer)
    if s.question is None or len(s.question) < MIN_QUESTION_CHARS:
        return Candidate(**base, reason="no_question", detail="no QUESTION section of some length")
    if s.answer is None:
        return Candidate(**base, reason="no_answer", detail="no ANSWER line")
    parsed = grader.parse(s.answer, gold=True)
    if parsed.ast is None:
        return Candidate(**base, reason="answer_unparseable", detail=parsed.error)
    if not is_numeric_ast(parsed.ast):
        return Candidate(**base, reason="answer_not_numeric", detail=f"parsed as {parsed.ast[0]}")
    return Candidate(**base)


def rewrite(prompts: Sequence[tuple[str, str]], rewriter: Any, solver: Any | None = None,
            config: RewriteConfig = RewriteConfig(), meta: Mapping[str, Any] | None = None) -> RewriteResult:
    """Run the pipeline over (source id, prompt text) pairs. `solver` defaults to the rewriter."""
    solver = solver or rewriter
    texts = _generate(rewriter, [_chat(REWRITE_TEMPLATE.format(prompt=p)) for _, p in prompts],
                      config.rewrites, config.rewrite_sampling)
    grader = MathGrader()
    try:
        candidates = [_check_candidate(Candidate(sid, j, raw), grader)
                      for (sid, _), raws in zip(prompts, texts) for j, raw in enumerate(raws)]
        passing = [c for c in candidates if c.reason == "accepted"]
        solves = _generate(solver, [_chat(SOLVE_TEMPLATE.format(question=c.question)) for c in passing],
                           config.k, config.solve_sampling) if passing else []
        graded = grader.grade([(Item(id=f"{c.source_id}/r{c.index}", gold=c.answer or ""), answers)
                               for c, answers in zip(passing, solves)])
    finally:
        grader.close()
    verdicts = {(c.source_id, c.index): (answers, [g.verdict for g in grades])
                for c, answers, grades in zip(passing, solves, graded)}
    final: list[Candidate] = []
    for c in candidates:
        if c.reason != "accepted":
            final.append(c)
            continue
        answers, vs = verdicts[(c.source_id, c.index)]
        agree = sum(v == "correct" for v in vs)
        ok = agree * 2 > len(vs)
        final.append(Candidate(c.source_id, c.index, c.raw, c.question, c.solution, c.answer,
                               "accepted" if ok else "solvers_disagree",
                               None if ok else f"{agree}/{len(vs)} solves agree", agree, tuple(answers), tuple(vs)))
    items = tuple(
        Item(id=f"{c.source_id}/r{c.index}", gold=c.answer or "",
             fields={"question": c.question or "", **({"answer": c.solution} if c.solution else {})},
             meta={"synth": "rewrite", "parent": c.source_id, "agree": c.agree, "k": len(c.solves),
                   **dict(meta or {})})
        for c in final if c.reason == "accepted")
    return RewriteResult(tuple(final), items)


def prompts_from_rows(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[tuple[str, str]]:
    """(id, text) from JSONL rows: `id` (else the 0-based line index) and the first of `prompt`,
    `question`, `problem`, `text`."""
    out = []
    for i, row in rows:
        text = next((row[k] for k in ("prompt", "question", "problem", "text") if isinstance(row.get(k), str)), None)
        if text is None:
            raise ValueError(f"line {i + 1}: no prompt field (one of prompt, question, problem, text)")
        out.append((str(row.get("id", i)), text))
    return out
