"""The sandbox's ordinary behaviour: verdicts, failure details, probes, scrubbed environment, clean-up."""

from __future__ import annotations

import os

import pytest

from harness.sandbox import Isolation, Job, Limits, Sandbox, probe


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(Limits(timeout_s=5.0)) as sb:
        yield sb


CASES = [
    # (program, tests, expected status, text expected in describe())
    ("def f(x):\n    return x + 1\n", "assert f(1) == 2\nassert f(2) == 3\n", "passed", "passed"),
    ("def f(x):\n    return x\n", "assert f(1) == 1\nassert f(2) == 3, 'two'\n", "failed", "assert f(2) == 3, 'two'"),
    ("def f(x):\n    return 1 / 0\n", "assert f(1) == 2\n", "error", "ZeroDivisionError"),
    ("def f(x)\n    return x\n", "assert f(1) == 1\n", "syntax", "syntax error"),
    ("import nonexistent_module_xyz\n", "", "error", "ModuleNotFoundError"),
    ("x = undefined_name\n", "assert True\n", "error", "NameError"),
    ("", "assert undefined_in_tests\n", "error", "crash in tests"),
]


@pytest.mark.parametrize("program,tests,status,text", CASES)
def test_verdicts_and_details(sandbox, program, tests, status, text):
    out = sandbox.run(Job(program, tests))
    assert out.status == status, out
    assert text in out.describe()


def test_failed_assertion_names_the_test_line(sandbox):
    tests = "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(5) == 7\n\ncheck(f)\n"
    out = sandbox.run(Job("def f(x):\n    return x + 1\n", tests))
    assert out.status == "failed"
    assert out.line == 3 and out.text == "assert candidate(5) == 7"


def test_stdlib_imports_work_after_dropping_privileges(sandbox):
    prog = ("import re, math, collections, collections.abc, heapq, itertools, functools, bisect, cmath, array\n"
            "import operator, copy, datetime, string, typing, random, hashlib, statistics, fractions, decimal\n"
            "def f():\n    return re.sub('a', 'b', 'aa') + str(math.isqrt(17))\n")
    out = sandbox.run(Job(prog, "assert f() == 'bb4'\n"))
    assert out.status == "passed", out.describe()


def test_probe_outputs_are_canonical(sandbox):
    prog = "def f(x):\n    return {x, 'b', 'a'}\ndef g(x):\n    return {'k': x, 'a': 1}\n"
    out = sandbox.run(Job(prog, "", ("f(1)", "g(0.1 + 0.2)", "f([])", "len(1)")))
    assert out.outputs == ("set({'a', 'b', 1})", "{'a': 1, 'k': 0.3}", "!TypeError", "!TypeError")


def test_probe_runs_after_failed_tests(sandbox):
    out = sandbox.run(Job("def f(x):\n    return 2 * x\n", "assert f(1) == 3\n", ("f(4)",)))
    assert out.status == "failed" and out.outputs == ("8",)


def test_stdout_stderr_captured_and_stdin_closed(sandbox):
    prog = "import sys\nprint('hello')\nprint('warn', file=sys.stderr)\nprint(repr(sys.stdin.read()))\n"
    out = sandbox.run(Job(prog))
    assert out.status == "passed"
    assert out.stdout == "hello\n''\n" and out.stderr == "warn\n"


def test_environment_is_scrubbed_and_cwd_is_private(sandbox, monkeypatch):
    monkeypatch.setenv("HARNESS_TEST_SECRET", "hunter2-secret")
    name = "harness-left-" + os.urandom(6).hex()
    prog = (f"import os\nprint(sorted(os.environ))\nprint(os.getcwd())\nprint(os.listdir('.'))\n"
            f"open({name!r}, 'w').write('x')\n")
    out = sandbox.run(Job(prog))
    assert "HARNESS_TEST_SECRET" not in out.stdout and "hunter2" not in out.stdout
    env_line, cwd, listing = out.stdout.splitlines()
    assert listing == "[]"
    assert not os.path.exists(os.path.join(cwd, name)), "the run's files are gone after the run"


def test_runs_as_unprivileged_uid_when_root(sandbox):
    if os.geteuid() != 0:
        pytest.skip("not root: there is nothing to drop")
    out = sandbox.run(Job("import os\nprint(os.getuid(), os.getgid(), os.getgroups())\n"))
    uid, gid, groups = out.stdout.split(" ", 2)
    assert int(uid) in sandbox.uids and int(gid) == int(uid) and groups.strip() == "[]"


def test_run_many_keeps_order(sandbox):
    jobs = [Job(f"def f():\n    return {i}\n", f"assert f() == {i}\n", ("f()",)) for i in range(12)]
    outs = sandbox.run_many(jobs)
    assert [o.outputs for o in outs] == [(str(i),) for i in range(12)]
    assert all(o.passed for o in outs)


def test_missing_isolation_is_said_in_details():
    iso = Isolation(namespaces=(), drop_privileges=os.geteuid() == 0,
                    notes=("namespaces disabled: network allowed",))
    with Sandbox(Limits(timeout_s=5.0), workers=1, isolation=iso) as sb:
        out = sb.run(Job("def f():\n    return 1\n", "assert f() == 1\n"))
    assert out.passed
    assert "[sandbox: namespaces disabled: network allowed]" in out.describe()


def test_probe_reports_what_it_found():
    iso = probe()
    if iso.network_ns:
        assert not any("network allowed" in n for n in iso.notes)
    else:
        assert any("network" in n for n in iso.notes)
