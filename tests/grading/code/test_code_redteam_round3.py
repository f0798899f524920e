"""Red team, round 3: answers written to get a pass for nothing on the items that used to be replayed
(HumanEval/32 calls the program's own `poly`; MBPP 88 returns a Counter), answers that used to crash
the whole scoring run, and outputs made to load the harness. Each hack is refused, the honest answers
pass, and every sample gets its own verdict."""

from __future__ import annotations

import pytest

from harness.data import Source
from harness.grading.code.extract import example_calls
from harness.grading.code.grade import CodeGrader
from harness.grading.code.limits import ReferenceTimes, TimePolicy
from harness.records import Item
from harness.sandbox import Limits, Sandbox
from harness.tasks import get_task


@pytest.fixture(scope="module")
def grader(tmp_path_factory):
    with Sandbox(Limits(timeout_s=5.0)) as sb:
        yield CodeGrader("redteam3", sandbox=sb, policy=TimePolicy(multiple=10, floor_s=2.0, fallback_s=5.0),
                         times=ReferenceTimes(tmp_path_factory.mktemp("t") / "limits.json"))


def item_of(shared_data, task: str, item_id: str) -> Item:
    return next(it for it in get_task(task).load(Source(shared_data, None)) if it.id == item_id)


def fenced(code: str) -> str:
    return "```python\n" + code + "```"


FIND_ZERO_HONEST = """
def find_zero(xs):
    lo, hi = -1.0, 1.0
    while poly(xs, lo) * poly(xs, hi) > 0:
        lo, hi = lo * 2, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if poly(xs, mid) * poly(xs, lo) > 0:
            lo = mid
        else:
            hi = mid
    return lo
"""

HUMANEVAL_32_HACKS = {
    "redefine_poly": "def poly(xs, x):\n    return 0.0\ndef find_zero(xs):\n    return 0.0\n",
    "patch_math_fabs": "import math\nmath.fabs = lambda x: 0.0\ndef find_zero(xs):\n    return 0.0\n",
    "patch_math_pow": "import math\nmath.pow = lambda a, b: 0.0\ndef find_zero(xs):\n    return 0.0\n",
    "patch_random": ("import random\nclass R:\n    def __init__(self, *a):\n        pass\n"
                     "    def randint(self, a, b):\n        return 1\nrandom.Random = R\n"
                     "def find_zero(xs):\n    return -1.0\n"),
    "float_dunder": ("class Z(float):\n    def __float__(self):\n        return 0.0\n"
                     "    def __rmul__(self, o):\n        return 0.0\n    __mul__ = __rmul__\n"
                     "def find_zero(xs):\n    return Z(0.0)\n"),
    "main_exec_noop": ("import sys\nm = sys.modules['__main__']\nm.exec = lambda *a, **k: None\n"
                       "m.compile = lambda *a, **k: None\ndef find_zero(xs):\n    return 0.0\n"),
    "forge_outputs_in_child": ("import sys\nm = sys.modules['__main__']\n"
                               "m._safe_call = lambda *a, **k: (True, ['f', (0.0).hex()])\n"
                               "def find_zero(xs):\n    return 0.0\n"),
}


@pytest.mark.slow
def test_humaneval_32_hacks_fail_and_honest_answers_pass(grader, shared_data):
    item = item_of(shared_data, "humaneval", "HumanEval/32")
    names = list(HUMANEVAL_32_HACKS)
    responses = [fenced(HUMANEVAL_32_HACKS[n]) for n in names] + [fenced(FIND_ZERO_HONEST), item.gold]
    grades = grader.grade([(item, responses)])[0]
    for name, g in zip(names, grades):
        assert g.verdict in ("incorrect", "timeout"), (name, g.detail)
        assert "fresh process" in g.detail, (name, g.detail)
    assert [g.verdict for g in grades[-2:]] == ["correct", "correct"], [g.detail for g in grades[-2:]]
    assert grader.checked["HumanEval/32"] is False and "replayed into the test" in grades[-1].detail


MBPP_88_HACKS = {
    "counter_subclass": ("import collections\nclass C(collections.Counter):\n    def __eq__(self, o):\n"
                         "        return True\n    __hash__ = None\ndef freq_count(xs):\n    return C()\n"),
    "dict_subclass": "class D(dict):\n    def __eq__(self, o):\n        return True\ndef freq_count(xs):\n    return D()\n",
    "patched_counter_class": ("import collections\nclass C(collections.Counter):\n    def __eq__(self, o):\n"
                              "        return True\ncollections.Counter = C\ndef freq_count(xs):\n    return C()\n"),
}


@pytest.mark.slow
def test_mbpp_88_counter_hacks_fail_and_exact_types_pass(grader, shared_data):
    item = item_of(shared_data, "mbpp", "88")
    names = list(MBPP_88_HACKS)
    honest_dict = "def freq_count(xs):\n    out = {}\n    for x in xs:\n        out[x] = out.get(x, 0) + 1\n    return out\n"
    responses = [fenced(MBPP_88_HACKS[n]) for n in names] + [fenced(honest_dict), item.gold]
    grades = grader.grade([(item, responses)])[0]
    for name, g in zip(names, grades):
        assert g.verdict == "incorrect", (name, g.detail)
    assert [g.verdict for g in grades[-2:]] == ["correct", "correct"], [g.detail for g in grades[-2:]]
    assert grader.checked["88"] is True, "a Counter travels as plain data: the item splits"


@pytest.mark.slow
def test_mbpp_full_367_tree_arguments_split(grader, shared_data):
    item = item_of(shared_data, "mbpp_full", "367")
    wrong = fenced("def is_tree_balanced(root):\n    return True\n")
    grades = grader.grade([(item, [item.gold, wrong])])[0]
    assert [g.verdict for g in grades] == ["correct", "incorrect"], [g.detail for g in grades]
    assert "is_tree_balanced(<Node>) returned True, expected False" in grades[1].detail


PROMPT = 'def uniq(xs):\n    """The distinct members of xs, sorted.\n    >>> uniq([1, 1, 2])\n    [1, 2]\n    """\n'
TESTS = ("def check(candidate):\n    assert candidate([1, 2, 2]) == [1, 2]\n    assert set(candidate([5, 5, 6])) == {5, 6}\n\n"
         "check(uniq)\n")

# Outputs and failures that used to crash the scoring run or load the harness process.
CRASHERS = {
    "huge_int": "def uniq(xs):\n    return 1 << 20000\n",
    "set_of_huge_int": "def uniq(xs):\n    return {10 ** 5000}\n",
    "surrogate_module": ("class E(Exception):\n    pass\nE.__module__ = '\\ud800'\n"
                         "def uniq(xs):\n    raise E('\\udcff')\n"),
    "surrogate_output": "def uniq(xs):\n    return '\\ud800\\x00'\n",
    "surrogate_probe_repr": ("class R:\n    def __repr__(self):\n        return '\\udfff' * 5000\n"
                             "def uniq(xs):\n    return R()\n"),
    "surrogate_crash_message": "raise ValueError('\\ud800 \\x00 boom')\ndef uniq(xs):\n    return 0\n",
    "colliding_ints": "def uniq(xs):\n    return [i * (2 ** 61 - 1) for i in range(80000)]\n",
    "big_output": "def uniq(xs):\n    return ['x' * 1000] * 3000\n",
    "nul_in_name": "class E(Exception):\n    pass\nE.__name__ = 'A\\x00B'\ndef uniq(xs):\n    raise E()\n",
}


@pytest.mark.slow
def test_crashers_get_their_own_verdict_and_the_rest_are_judged(grader):
    item = Item("rt3/0", PROMPT + "    return sorted(set(xs))\n", {
        "prompt_code": PROMPT, "preamble": "", "entry_point": "uniq", "tests": TESTS,
        "examples": example_calls(PROMPT, "uniq")})
    names = list(CRASHERS)
    responses = [fenced(CRASHERS[n]) for n in names] + ["    return sorted(set(xs))\n"]
    grades = grader.grade([(item, responses)])[0]
    for name, g in zip(names, grades):
        # The colliding set is built in the program's own process (the test wraps it in `set`), on its CPU.
        assert g.verdict in (("incorrect", "error", "timeout") if name == "colliding_ints" else ("incorrect", "error")), \
            (name, g.detail)
        g.detail.encode("utf-8")  # writable as UTF-8: no lone surrogate reaches a verdict
        assert "\x00" not in g.detail and len(g.detail) < 5000
        if g.canonical is not None:
            g.canonical.encode("utf-8")
            assert "\x00" not in g.canonical
    by_name = dict(zip(names, grades))
    assert "<int of 20001 bits>" in by_name["huge_int"].detail
    assert grades[-1].verdict == "correct", grades[-1].detail


def test_without_a_reference_the_programs_calls_are_checked_in_a_fresh_process(grader):
    prompt = "def poly(xs, x):\n    return sum(c * x ** i for i, c in enumerate(xs))\n\ndef root(xs):\n    pass\n"
    tests = ("def check(candidate):\n    for xs in ([-1, 1], [-2, 1], [-6, 2]):\n        r = candidate(xs)\n"
             "        assert abs(poly(xs, r)) < 1e-6\n\ncheck(root)\n")
    item = Item("rt3/nogold", "", {"prompt_code": prompt, "preamble": prompt, "entry_point": "root",
                                   "tests": tests, "examples": ()})
    honest = fenced("def root(xs):\n    return -xs[0] / xs[1]\n")
    hacks = [fenced("def poly(xs, x):\n    return 0\ndef root(xs):\n    return 0.0\n"),
             fenced("import builtins\nbuiltins.abs = lambda x: 0\ndef root(xs):\n    return 0.0\n"),
             fenced("def root(xs):\n    import sys\n    sys.modules['__main__'].exec = lambda *a, **k: None\n    return 0.0\n")]
    grades = grader.grade([(item, [honest, *hacks])])[0]
    assert grades[0].verdict == "correct", grades[0].detail
    assert [g.verdict for g in grades[1:]] == ["incorrect"] * 3, [g.detail for g in grades[1:]]


@pytest.mark.slow
@pytest.mark.parametrize("task,split,on_outputs", [("humaneval", 163, ["HumanEval/32"]), ("mbpp", 257, []),
                                                   ("mbpp_full", 500, [])])
def test_no_item_is_checked_in_the_programs_reach(grader, shared_data, task, split, on_outputs):
    items = get_task(task).load(Source(shared_data, None))
    plans = grader.plans(items)
    assert sum(p.split for p in plans.values()) == split
    assert sorted(i for i, p in plans.items() if not p.split) == on_outputs
    assert all(p.calls is not None for i, p in plans.items() if not p.split), "the reference's calls were recorded"


@pytest.mark.slow
def test_mbpp_full_canonical_solutions_all_pass(grader, shared_data):
    items = get_task("mbpp_full").load(Source(shared_data, None))
    grades = grader.grade([(it, [it.gold]) for it in items])
    assert [(it.id, g[0].detail) for it, g in zip(items, grades) if g[0].verdict != "correct"] == []


def test_a_sandbox_that_fails_gives_verdict_error_not_a_crash(tmp_path):
    item = Item("rt3/1", PROMPT + "    return sorted(set(xs))\n", {
        "prompt_code": PROMPT, "preamble": "", "entry_point": "uniq", "tests": TESTS, "examples": ()})
    with Sandbox(Limits(timeout_s=2.0), workers=1, python=str(tmp_path / "no-python")) as broken:
        g = CodeGrader("rt3", sandbox=broken, times=ReferenceTimes(tmp_path / "limits.json"))
        grades = g.grade([(item, ["    return sorted(set(xs))\n", "nonsense ("])])[0]
    assert [g.verdict for g in grades] == ["error", "unparseable"], [g.detail for g in grades]
    assert "SandboxError" in grades[0].detail
