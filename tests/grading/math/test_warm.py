"""The math pool's forkserver imports `warm`, which runs checks once so that forked workers start
with sympy's caches filled. Its forms must keep parsing and checking: a form that fails warms nothing."""

from __future__ import annotations

from harness.grading.math import pool, warm
from harness.grading.math.normalize import clean_answer
from harness.grading.math.parse import parse_answer
from harness.grading.math.symbolic import Options, run_job


def test_the_forkserver_preloads_the_warm_up():
    assert pool._PRELOAD == ["harness.grading.math.warm"]


def test_every_warm_up_form_parses_and_checks_without_error():
    opts = Options("strip", 0.0, "exact", "any")
    for a, b in warm._FORMS:
        x, y = parse_answer(clean_answer(a, False)), parse_answer(clean_answer(b, False))
        assert run_job(("canon", x, opts))[0] == "ok", a
        result = run_job(("equiv", x, y, opts))
        assert result[0] == "ok", (a, b, result)
