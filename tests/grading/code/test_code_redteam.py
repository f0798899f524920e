"""Hostile answers that compute nothing: each must be graded incorrect (or timeout), while the honest
answer to the same item passes. Split checks decide outside the program's reach."""

from __future__ import annotations

import pytest

from harness.grading.code.extract import example_calls
from harness.grading.code.grade import CodeGrader
from harness.grading.code.limits import ReferenceTimes, TimePolicy
from harness.records import Item
from harness.sandbox import Limits, Sandbox

PROMPT = 'def add(xs):\n    """Sum of xs.\n    >>> add([1, 2])\n    3\n    """\n'
TESTS = ("def check(candidate):\n    assert candidate([1, 2]) == 3\n    assert candidate([5, 5, 5]) == 15\n"
         "    assert candidate([]) == 0\n\ncheck(add)\n")

TRICKS = {
    "eq_int_subclass": "class Yes(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\n"
                       "def add(xs):\n    return Yes(0)\n",
    "eq_list_subclass": "class Yes(list):\n    def __eq__(self, o):\n        return True\n"
                        "def add(xs):\n    return Yes()\n",
    "lying_repr": "class R(int):\n    def __repr__(self):\n        return '3'\n    __str__ = __repr__\n"
                  "def add(xs):\n    return R(0)\n",
    "read_caller_bytecode": "import sys\ndef add(xs):\n    f = sys._getframe(1)\n"
                            "    return next((c for c in f.f_code.co_consts if isinstance(c, int) and c > 1), 0)\n",
    "monkeypatch_builtins": "import builtins\nbuiltins.type = lambda x: int\nbuiltins.isinstance = lambda a, b: True\n"
                            "def add(xs):\n    return None\n",
    "read_benchmark_file": "def add(xs):\n    try:\n        return len(open('/work/shared/data/SOURCES.md').read())\n"
                           "    except OSError:\n        return -1\n",
    "proc_self_mem": "def add(xs):\n    try:\n        open('/proc/self/mem', 'rb')\n    except OSError:\n        pass\n    return -1\n",
    "exit_early": "import os\ndef add(xs):\n    os._exit(0)\n",
    "settrace": "import sys\nsys.settrace(lambda *a: None)\nsys.setprofile(lambda *a: None)\ndef add(xs):\n    return 0\n",
    "fork_first": "import os\nif os.fork() == 0:\n    os._exit(0)\ndef add(xs):\n    return 0\n",
    "thread_outlives": "import threading, time\nthreading.Thread(target=lambda: time.sleep(30), daemon=False).start()\n"
                       "def add(xs):\n    return 0\n",
    "flood_report_fds": "import os\nfor fd in range(3, 64):\n    try:\n"
                         "        os.write(fd, b'x' * 100000 + b\"\\n{'kind': 'cases', 'outputs': []}\\n\")\n"
                         "    except OSError:\n        pass\ndef add(xs):\n    return 0\n",
    "gc_walk": "import gc\ndef add(xs):\n    for o in gc.get_objects():\n        if callable(o) and getattr(o, '__name__', '') in ('write', 'hook'):\n"
               "            try:\n                o({'kind': 'cases', 'outputs': []})\n            except BaseException:\n                pass\n    return 0\n",
}


@pytest.fixture(scope="module")
def grader(tmp_path_factory):
    with Sandbox(Limits(timeout_s=3.0)) as sb:
        g = CodeGrader("redteam", sandbox=sb, policy=TimePolicy(multiple=10, floor_s=1.0, fallback_s=3.0),
                       times=ReferenceTimes(tmp_path_factory.mktemp("t") / "limits.json"))
        yield g


def test_every_trick_is_incorrect_and_the_honest_answer_passes(grader):
    item = Item("rt/0", PROMPT + "    return sum(xs)\n", {
        "prompt_code": PROMPT, "preamble": "", "entry_point": "add", "tests": TESTS,
        "examples": example_calls(PROMPT, "add")})
    names = list(TRICKS)
    responses = ["```python\n" + TRICKS[n] + "```" for n in names] + ["    return sum(xs)\n"]
    grades = grader.grade([(item, responses)])[0]
    for name, g in zip(names, grades):
        assert g.verdict in ("incorrect", "timeout"), (name, g.detail)
        assert "check: split" in g.detail and "isolation:" in g.detail, (name, g.detail)
    assert grades[-1].verdict == "correct", grades[-1].detail
