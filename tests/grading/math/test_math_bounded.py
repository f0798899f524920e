"""Bounded execution: adversarial answers come back "unparseable" or "timeout" instead of hanging, and
the worker pool kills and replaces a stuck worker. No assertion is about elapsed time: a hang would
show up as the test run's own timeout (pytest-timeout)."""

from __future__ import annotations

import pytest

from harness.grading.math import MathGrader
from harness.grading.math.pool import WorkerPool
from harness.records import Item

ADVERSARIAL = [
    "\\boxed{9^9^9^9}",
    "\\boxed{9^{9^{9^{9}}}}",
    "\\boxed{10^{10^{10}}}",
    "\\boxed{2^{2^{2^{2^{2^{2}}}}}}",
    "\\boxed{(10^{1000})^{1000}}",
    "\\boxed{1000000!}",
    "\\boxed{(x+1)^{1000000000}}",
    "\\boxed{\\binom{10^{9}}{5 \\cdot 10^{8}}}",
    "\\boxed{" + "(" * 500 + "1" + ")" * 500 + "}",
    "\\boxed{" + "{" * 3000 + "1" + "}" * 3000 + "}",
    "\\boxed{" + "\\frac{1}{" * 200 + "2" + "}" * 200 + "}",
    "\\boxed{" + "\\sqrt{" * 300 + "2" + "}" * 300 + "}",
    "\\boxed{" + "1+" * 20000 + "1}",
    "x" * 100_000,
    "The answer is " + "9" * 100_000,
    "\\boxed{" + "9" * 5001 + "}",
    "(" * 100_000,
    "\\boxed{" * 50_000,
    "$" * 100_000,
    "\\frac" * 30_000,
]


@pytest.mark.parametrize("response", ADVERSARIAL, ids=[f"adv{i}" for i in range(len(ADVERSARIAL))])
def test_adversarial_answers_are_bounded(grader_1s, response):
    grade = grader_1s.grade_pairs([("2", response)])[0]
    assert grade.verdict in ("unparseable", "timeout", "incorrect")


@pytest.fixture(scope="module")
def grader_1s():
    with MathGrader(timeout_s=1.0) as g:
        yield g


def test_identical_huge_answers_compare_without_parsing(grader_1s):
    """5,001-digit integers (past Python's int/str limit) and towers are equal to themselves by text."""
    big = "9" * 5001
    tower = "9^{9^{9^{9}}}"
    grades = grader_1s.grade_pairs([(big, big), (tower, "\\boxed{9^{9^{9^{9}}}}"), (big, "9" * 5000 + "8")])
    assert [g.verdict for g in grades[:2]] == ["correct", "correct"]
    assert grades[2].verdict in ("incorrect", "unparseable")


def test_pool_kills_and_replaces_a_stuck_worker():
    with WorkerPool(size=1, timeout_s=0.5, memory_mb=None) as pool:
        first = pool.run([("sleep", 0.0)])
        pid = pool.workers[0].process.pid
        results = pool.run([("canon", ("num", "1"), _opts()), ("sleep", 60), ("canon", ("num", "3"), _opts())])
        assert first == [("ok", True)]
        assert results[0][0] == "ok"
        assert results[1][:2] == ("err", "timeout")
        assert results[2] == ("ok", "3", (3, 1))  # the rest of the chunk ran on the replacement
        assert pool.kills == 1
        assert pool.workers[0].process.pid != pid
        assert pool.workers[0].process.is_alive()
        assert pool.run([("canon", ("sym", "x"), _opts())]) == [("ok", "x", None)]


def test_pool_survives_a_worker_that_dies():
    """A worker killed from outside (as the kernel would for memory) costs one job, reported as timeout."""
    import os
    import signal

    with WorkerPool(size=1, timeout_s=30, memory_mb=None) as pool:
        pool.run([("sleep", 0.0)])
        os.kill(pool.workers[0].process.pid, signal.SIGKILL)
        results = pool.run([("canon", ("num", "5"), _opts())])
        # the dead worker is noticed on send or on read; either way the job completes or is a timeout
        assert results[0] in (("ok", "5", (5, 1)),) or results[0][:2] == ("err", "timeout")
        assert pool.run([("canon", ("num", "6"), _opts())]) == [("ok", "6", (6, 1))]


def test_a_worker_found_dead_on_send_is_replaced_and_the_job_runs():
    """The deterministic half of the test above: the worker is dead (reaped) before the pool sends to
    it, so the send fails, the worker is replaced, and the job still runs on the new one."""
    import os
    import signal

    with WorkerPool(size=1, timeout_s=30, memory_mb=None) as pool:
        pool.run([("sleep", 0.0)])
        dead = pool.workers[0].process
        os.kill(dead.pid, signal.SIGKILL)
        dead.join(10)
        assert pool.run([("canon", ("num", "5"), _opts())]) == [("ok", "5", (5, 1))]
        assert pool.workers[0].process.pid != dead.pid


def test_grader_reports_timeout_not_incorrect():
    """With a limit no check can meet, symbolic answers are "timeout" (not "incorrect"), while plain
    numbers, which never leave the process, are still graded."""
    with MathGrader(timeout_s=1e-6, workers=1) as g:
        grades = g.grade([(Item("a", "\\sqrt{2}"), ["\\boxed{\\sqrt{2}}", "\\boxed{2^{1/2}}"]),
                          (Item("b", "7"), ["\\boxed{7}", "\\boxed{8}"])])
        assert [x.verdict for x in grades[0]] == ["correct", "timeout"]  # identical text needs no check
        assert [x.verdict for x in grades[1]] == ["correct", "incorrect"]
        assert grades[0][1].cls is None  # a timed-out sample does not vote
        assert g.pool.kills >= 1


def test_memory_limit_kills_only_the_check():
    """A worker under a small address-space limit that runs out of memory answers timeout/unparseable."""
    with WorkerPool(size=1, timeout_s=20, memory_mb=400) as pool:
        res = pool.run([("canon", ("fact", ("num", "2000")), _opts()), ("canon", ("num", "2"), _opts())])
        assert res[1] == ("ok", "2", (2, 1))


def _opts():
    from harness.grading.math.symbolic import Options

    return Options()
