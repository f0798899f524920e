"""Grading code: extract the program, run it with the item's tests in the sandbox, vote by behaviour.

Items of a code task carry, in `Item.fields`: `prompt_code` (what a base model continues),
`preamble` (code put before a chat answer's blocks: HumanEval's prompt, so its imports and helpers
exist), `entry_point`, `tests` (run after the program; they must run to the end to pass) and
`examples` (calls taken from the prompt's own examples, never from the hidden tests). `Item.gold` is
the reference program, used only to calibrate the item's time limit.

Behavioural majority vote: every program also evaluates the example calls; samples whose outputs
are identical form one vote class (`Grade.cls`), so two differently written but equivalent programs
vote together. Unparseable and timed-out samples do not vote. Without examples, identical programs
(same syntax tree) vote together. The vote never sees the tests' outcome.

Grade fields: `extracted` is the program that ran (without the tests), `canonical` the behaviour
signature (the outputs), `detail` what happened (which assertion failed, the exception, the timeout,
the time limit and how it was set, and any weakness of the sandbox on this machine).
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from typing import Sequence

from harness.grading.base import classes_by_key
from harness.grading.code.extract import Extraction, extract_program, parse_quietly
from harness.grading.code.limits import ReferenceTimes, TimePolicy, item_key
from harness.grading.code.split import compare, split_tests
from harness.records import Grade, Item, Verdict
from harness.sandbox import Job, Limits, Outcome, Sandbox
from harness.sandbox.plain import check_spread, decode, try_decode
from harness.sandbox.safe import safe_repr, safe_text


@dataclass(frozen=True, slots=True)
class Case:
    """One split test case: what to call, and what the test expects (kept in the parent only).
    `node` is the arguments as the child gets them (plain data; a test's own objects as attribute bags)."""

    line: int
    kind: str
    wrap: str
    callee: str
    args: tuple
    kwargs: dict
    expected: object
    params: dict
    node: object = None


@dataclass(frozen=True, slots=True)
class Plan:
    """How an item is checked, never in reach of the program:

    - split (`cases`): the program is called on each case's arguments and the parent compares;
    - replayed outputs (`calls`, `helper`): the program is called on the arguments the test passed the
      reference; the item's own test then runs in a fresh process with `helper` (the reference) and a
      stand-in that returns those outputs call by call;
    - traced (`trace`, `helper`): no reference: the program runs the test once only to produce its
      calls and outputs; a fresh process with `helper` (the prompt) runs the test on them, checking
      that every call has the arguments the test itself passes."""

    cases: tuple[Case, ...] | None
    reason: str | None = None
    calls: tuple | None = None  # encoded (args, kwargs) per recorded call
    helper: str | None = None
    trace: bool = False

    @property
    def split(self) -> bool:
        return self.cases is not None

    def describe(self) -> str:
        if self.cases is not None:
            return f"check: split, {len(self.cases)} cases compared outside the program"
        if self.calls is not None:
            return (f"check: {len(self.calls)} outputs replayed into the test in a fresh process with the "
                    f"reference's helpers ({self.reason})")
        return f"check: the program's calls and outputs replayed into the test in a fresh process ({self.reason})"


def split_source(item: Item) -> tuple[str | None, str | None]:
    """The item's split test (made at load time, `fields["split_tests"]`; else split now) or why not."""
    f = item.fields
    if "split_tests" in f:
        return f["split_tests"], f.get("split_reason")
    sp = split_tests(f["tests"], f["entry_point"])
    return sp.source, sp.reason


def _shown(name: str, attrs: dict) -> object:
    return _Shown(name.rsplit(".", 1)[-1])


@dataclass(frozen=True, slots=True)
class _Shown:
    """An argument object of the test's own class, as shown in details."""

    name: str

    def __repr__(self) -> str:
        return f"<{self.name}>"


def plan_from_record(outcome: Outcome, entry_point: str) -> Plan:
    """Validate a reference's record run: every case must be plain data and pass with the reference."""
    if outcome.status != "passed" or outcome.record is None:
        return Plan(None, f"the reference did not run its split tests ({outcome.describe()})")
    cases = []
    for rec in outcome.record:
        line = rec.get("line") if isinstance(rec, dict) else None
        if not isinstance(rec, dict) or "unplain" in rec or not isinstance(line, int):
            return Plan(None, f"tests line {line}: {rec.get('unplain') if isinstance(rec, dict) else 'bad record'}")
        try:
            args = True, decode(rec["args"], objects=_shown)
        except (ValueError, TypeError, RecursionError) as exc:
            args = False, str(exc)
        ok_e, exp = try_decode(rec["expected"])
        ok_o, out = try_decode(rec["output"]) if rec.get("ok") else (False, rec.get("output"))
        if not (args[0] and ok_e):
            return Plan(None, f"tests line {line}: arguments or expected value not plain data")
        (a, kw), (e, params) = args[1], exp
        case = Case(line, rec["kind"], rec["wrap"], entry_point if rec["callee"] == "candidate" else rec["callee"],
                    a, kw, e, params, rec["args"])
        if not ok_o or not compare(case.kind, case.wrap, out, case.expected, case.params):
            return Plan(None, f"tests line {line}: the reference does not pass this case as split ({safe_repr(out, 80)})")
        cases.append(case)
    if not cases:
        return Plan(None, "the split tests recorded no case")
    return Plan(tuple(cases))


def plan_from_calls(outcome: Outcome, reference: str, why: str) -> Plan:
    """The calls the test made of the reference (mode "calls"): arguments as plain data."""
    if outcome.status != "passed" or outcome.record is None:
        return Plan(None, f"{why}; the reference did not pass its own test with its calls recorded "
                          f"({outcome.describe()})", helper=reference, trace=True)
    calls = []
    for rec in outcome.record:
        if not isinstance(rec, dict) or "args" not in rec:
            return Plan(None, f"{why}; {safe_text(str(rec.get('unplain') if isinstance(rec, dict) else 'bad record'), 100)}",
                        helper=reference, trace=True)
        calls.append(rec["args"])
    if not calls:
        return Plan(None, f"{why}; the test made no call", helper=reference, trace=True)
    return Plan(None, why, calls=tuple(calls), helper=reference)


def judge_cases(plan: Plan, outcome: Outcome) -> tuple[bool, str]:
    """(passed, what happened) for a cases-mode run: the parent compares each output it decoded
    itself with the expected value the child never saw."""
    got = outcome.cases or ()
    assert plan.cases is not None
    for i, case in enumerate(plan.cases):
        call = _call_text(case)
        if i >= len(got):
            return False, f"no output for case {i + 1} of {len(plan.cases)} (tests line {case.line}): {call}"
        entry = got[i]
        if not (isinstance(entry, (list, tuple)) and len(entry) == 2 and entry[0] in (True, False)):
            return False, f"malformed output for case {i + 1} (tests line {case.line})"
        ok, value = entry
        if ok is not True:
            return False, f"failed case (tests line {case.line}): {call} {safe_text(value if isinstance(value, str) else 'failed', 300)}"
        ok, out = try_decode(value)
        if ok and case.wrap in ("set", "frozenset") and type(out) in (list, tuple):
            try:
                check_spread(out)
            except ValueError as exc:
                ok, out = False, f"malformed output ({exc})"
        if not ok:
            return False, f"failed case (tests line {case.line}): {call} {out}"
        if not compare(case.kind, case.wrap, out, case.expected, case.params):
            return False, (f"failed case (tests line {case.line}): {call} returned {_short(out)}, "
                           f"expected {_expect_text(case)}")
    return True, f"passed {len(plan.cases)} cases"


def replay_of(outcome: Outcome, calls: tuple | None) -> tuple[tuple, ...] | str:
    """(encoded args, ok, output) per call for a verify run, from a candidate's cases run (`calls`
    given: the reference's arguments) or calls run (`calls` None: the candidate's own record)."""
    if calls is not None:
        got = outcome.cases or ()
        out = []
        for args, entry in zip(calls, got):
            if not (isinstance(entry, (list, tuple)) and len(entry) == 2 and entry[0] in (True, False)):
                return "malformed output"
            out.append((args, entry[0], entry[1] if entry[0] or isinstance(entry[1], str) else "failed"))
        return tuple(out)
    rows = []
    for rec in (outcome.record or ())[:5000]:
        if not (isinstance(rec, dict) and "args" in rec and rec.get("ok") in (True, False)):
            return "the program's calls are not plain data"
        out = rec.get("output")
        rows.append((rec["args"], rec["ok"], out if rec["ok"] or isinstance(out, str) else "failed"))
    return tuple(rows)


def _short(v, n: int = 120) -> str:
    return safe_repr(v, n)


def _call_text(case: Case) -> str:
    parts = [_short(a, 60) for a in case.args] + [f"{k}={_short(v, 40)}" for k, v in case.kwargs.items()]
    text = f"{case.callee}({', '.join(parts)})"
    return f"{case.wrap}({text})" if case.wrap else text


def _expect_text(case: Case) -> str:
    if case.kind == "abs":
        return f"{_short(case.expected)} within {case.params.get('tol')!r}"
    if case.kind == "isclose":
        return f"close to {_short(case.expected)} ({case.params})"
    return {"truthy": "a true value", "falsy": "a false value", "ne": f"anything but {_short(case.expected)}",
            "is": f"exactly {case.expected!r}"}.get(case.kind, _short(case.expected))


@dataclass(frozen=True, slots=True)
class CodeResult:
    """Everything about one sample, for callers that want more than the Grade (e.g. `score`)."""

    grade: Grade
    extraction: Extraction
    outcome: Outcome | None
    time_limit_s: float


def verdict_of(outcome: Outcome) -> Verdict:
    if outcome.stage == "sandbox":  # the sandbox failed, not the program: no verdict on it
        return "error"
    if outcome.status == "passed":
        return "correct"
    if outcome.status == "timeout":
        return "timeout"
    if outcome.status == "syntax":
        return "unparseable"
    return "incorrect"


def behaviour_key(ex: Extraction, outcome: Outcome | None, has_examples: bool) -> str | None:
    """The vote key: the outputs on the prompt's examples; a crash on definition is one behaviour;
    no key for samples without a program, with a syntax error or that ran out of time."""
    if ex.program is None or outcome is None or outcome.status in ("syntax", "timeout"):
        return None
    if outcome.status == "error" and outcome.stage == "program":
        return f"crash: {outcome.error}"
    if outcome.status == "exited" and outcome.outputs is None:
        return None
    if has_examples:
        return None if outcome.outputs is None else _bounded("\n".join(outcome.outputs))
    tree = parse_quietly(ex.program)
    return None if tree is None else "ast:" + hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]


def _bounded(key: str, cap: int = 1000) -> str:
    """A long signature keeps its head for reading and a hash of the whole for equality."""
    if len(key) <= cap:
        return key
    return key[:200] + " ... #" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class CodeGrader:
    """The Grader for code tasks. One sandbox pool for its lifetime; `close()` frees it."""

    def __init__(self, task: str = "code", *, sandbox: Sandbox | None = None, policy: TimePolicy | None = None,
                 times: ReferenceTimes | None = None, limits: Limits | None = None, workers: int | None = None):
        self.task = task
        self.policy = policy or TimePolicy()
        self.sandbox = sandbox or Sandbox(limits=limits, workers=workers)
        self._own_sandbox = sandbox is None
        self.times = times or ReferenceTimes()
        self._plans: dict[str, Plan] = {}  # item key -> how it is checked (the reference's record run)
        self.checked: dict[str, bool] = {}  # item id -> checked by split (True) or replayed (False)

    def close(self) -> None:
        if self._own_sandbox:
            self.sandbox.close()

    # -- time limits -------------------------------------------------------------------------------

    def time_limits(self, items: Sequence[Item]) -> dict[str, tuple[float, str]]:
        """Item id -> (limit in seconds, how it was set); references not yet timed here run now."""
        keys = {it.id: item_key(self.task, it.id, it.gold, it.fields["tests"]) for it in items}
        todo = list({it.id: it for it in items if not self.times.get(keys[it.id])[0]}.values())
        if any(not it.gold for it in todo):  # no reference to time: the fallback limit applies
            self.times.put_many({keys[it.id]: None for it in todo if not it.gold})
            todo = [it for it in todo if it.gold]
        if todo:
            jobs = [Job(it.gold, it.fields["tests"], tuple(it.fields.get("examples", ())),
                        timeout_s=self.policy.fallback_s) for it in todo]
            outcomes = self.sandbox.run_many(jobs)
            self.times.put_many({keys[it.id]: (o.wall_s if o.passed else None) for it, o in zip(todo, outcomes)})
        out = {}
        for it in items:
            ref = self.times.get(keys[it.id])[1]
            limit = self.policy.limit(ref)
            how = (f"{self.policy.multiple:g} x reference {ref:.3f} s, floor {self.policy.floor_s:g} s" if ref is not None
                   else "default: no reference solution passed here" if it.gold else "default: no reference solution")
            out[it.id] = (limit, how)
        return out

    # -- split tests -------------------------------------------------------------------------------

    def plans(self, items: Sequence[Item]) -> dict[str, Plan]:
        """Item id -> Plan (cached for the grader's lifetime). Items whose tests split are run once with
        the reference in record mode: the inputs, the expected values and the check's rules. The others
        run their test once with the reference's calls recorded; without a reference, each sample's
        own calls are checked (see Plan)."""
        keys = {it.id: item_key(self.task, it.id, it.gold, it.fields["tests"]) for it in items}
        todo = list({it.id: it for it in items if keys[it.id] not in self._plans}.values())
        records, calls = [], []
        for it in todo:
            source, reason = split_source(it)
            if not it.gold:
                f = it.fields
                self._plans[keys[it.id]] = Plan(None, "no reference solution", helper=f.get("preamble") or
                                                f.get("prompt_code") or "", trace=True)
            elif source is None:
                calls.append((it, reason or "the tests do not split"))
            else:
                records.append((it, source))
        jobs = [Job(it.gold, source, timeout_s=self.policy.fallback_s, mode="record", trusted=True)
                for it, source in records]
        for (it, _), outcome in zip(records, self.sandbox.run_many(jobs) if jobs else []):
            plan = plan_from_record(outcome, it.fields["entry_point"])
            if plan.split:
                self._plans[keys[it.id]] = plan
            else:
                calls.append((it, plan.reason or "not split"))
        jobs = [Job(it.gold, it.fields["tests"], timeout_s=self.policy.fallback_s, mode="calls",
                    entry=it.fields["entry_point"], trusted=True) for it, _ in calls]
        for (it, why), outcome in zip(calls, self.sandbox.run_many(jobs) if jobs else []):
            self._plans[keys[it.id]] = plan_from_calls(outcome, it.gold, why)
        out = {it.id: self._plans[keys[it.id]] for it in items}
        self.checked.update({i: p.split for i, p in out.items()})
        return out

    def split_share(self) -> tuple[int, int]:
        """(items checked by split, items graded) so far."""
        return sum(self.checked.values()), len(self.checked)

    # -- grading -----------------------------------------------------------------------------------

    def _first_job(self, item: Item, ex: Extraction, plan: Plan, limit: float) -> Job:
        f = item.fields
        examples = tuple(f.get("examples", ()))
        if plan.cases is not None:
            return Job(ex.program, "", examples, timeout_s=limit, mode="cases",
                       cases=tuple((c.callee, c.node, c.wrap) for c in plan.cases))
        if plan.calls is not None:
            return Job(ex.program, "", examples, timeout_s=limit, mode="cases",
                       cases=tuple((f["entry_point"], node, "") for node in plan.calls))
        return Job(ex.program, f["tests"], examples, timeout_s=limit, mode="calls", entry=f["entry_point"])

    def results(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[CodeResult]]:
        limits = self.time_limits([item for item, _ in batch])
        plans = self.plans([item for item, _ in batch])
        plan: list[tuple[int, int, Extraction, Job | None]] = []
        for i, (item, responses) in enumerate(batch):
            f = item.fields
            for j, response in enumerate(responses):
                ex = extract_program(response, prompt_code=f["prompt_code"], entry_point=f["entry_point"],
                                     preamble=f.get("preamble", ""))
                job = None if ex.program is None else self._first_job(item, ex, plans[item.id], limits[item.id][0])
                plan.append((i, j, ex, job))
        runnable = [p for p in plan if p[3] is not None]
        outcomes = dict(zip(((i, j) for i, j, _, _ in runnable), self.sandbox.run_many([p[3] for p in runnable])))
        # Second step for tests that do not split: the test itself, in a fresh process, on plain outputs.
        verify: dict[tuple[int, int], Job | str] = {}
        for (i, j), outcome in outcomes.items():
            item, how = batch[i][0], plans[batch[i][0].id]
            if how.split or outcome.status not in ("ran", "passed", "error", "failed"):
                continue
            if how.trace and outcome.record is None:
                continue
            replay = replay_of(outcome, how.calls)
            verify[(i, j)] = replay if isinstance(replay, str) else Job(
                how.helper or "", item.fields["tests"], timeout_s=max(limits[item.id][0], self.policy.fallback_s),
                mode="verify", entry=item.fields["entry_point"], replay=replay, trusted=True)
        jobs = [(k, v) for k, v in verify.items() if isinstance(v, Job)]
        checked = dict(zip((k for k, _ in jobs), self.sandbox.run_many([v for _, v in jobs]) if jobs else []))
        out: list[list[CodeResult]] = [[] for _ in batch]
        for i, j, ex, _ in plan:
            item = batch[i][0]
            outcome = outcomes.get((i, j))
            limit, how = limits[item.id]
            try:
                grade = self._grade(item, ex, outcome, plans[item.id], verify.get((i, j)), checked.get((i, j)),
                                    limit, how)
            except Exception as exc:  # noqa: BLE001 - one sample never costs the others their verdict
                grade = Grade(extracted=ex.program, canonical=None, verdict="error",
                              detail=safe_text(f"error: this sample could not be judged ({type(exc).__name__}: {exc})", 1000))
            out[i].append(CodeResult(grade, ex, outcome, limit))
        for row in out:
            classes = classes_by_key([r.grade.canonical for r in row])
            row[:] = [CodeResult(_with_cls(r.grade, c), r.extraction, r.outcome, r.time_limit_s)
                      for r, c in zip(row, classes)]
        return out

    def _grade(self, item: Item, ex: Extraction, outcome: Outcome | None, how_checked: Plan,
               verify: Job | str | None, checked: Outcome | None, limit: float, how: str) -> Grade:
        has_examples = bool(item.fields.get("examples"))
        key = behaviour_key(ex, outcome, has_examples)
        if outcome is None:
            return Grade(extracted=ex.program, canonical=key, verdict="unparseable", cls=None,
                         detail=f"unparseable: {ex.reason}")
        verdict = verdict_of(outcome)
        head = outcome.describe()
        if how_checked.cases is not None:
            if outcome.status == "ran":
                passed, head = judge_cases(how_checked, outcome)
                verdict = "correct" if passed else "incorrect"
            elif verdict == "correct":
                verdict = "incorrect"  # a split run reports only "ran"; anything else is no pass
        elif verdict in ("correct", "incorrect"):
            if isinstance(verify, str):
                verdict, head = "incorrect", f"failed: {verify}"
            elif checked is None:
                verdict = "incorrect"
            else:
                verdict = "correct" if checked.passed else "error" if checked.stage == "sandbox" else "incorrect"
                head = checked.describe() if checked.status != "failed" else \
                    f"failed assertion (tests line {checked.line}): {checked.text} -- {checked.message}"
                if checked.status == "passed":
                    head = "passed the test on its outputs"
        detail = (f"{head} | {how_checked.describe()} | {ex.kind} answer | time limit {limit:.2f} s ({how})"
                  f" | isolation: {outcome.isolation or 'unknown'}")
        if not has_examples:
            detail += " | vote by identical program (no examples in the prompt)"
        return Grade(extracted=ex.program, canonical=None if key is None else safe_text(key, 1200),
                     verdict=verdict, cls=None, detail=safe_text(detail, 4000))

    def grade(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[Grade]]:
        return [[r.grade for r in row] for row in self.results(batch)]


def _with_cls(g: Grade, cls: int | None) -> Grade:
    return Grade(extracted=g.extracted, canonical=g.canonical, verdict=g.verdict, cls=cls, detail=g.detail)
