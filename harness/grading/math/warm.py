"""Imported by the math worker pool's forkserver (its preload): sympy, warmed up.

The first checks in a fresh process cost about 2 ms each instead of 0.3: sympy fills its caches and
imports parts of itself lazily on first use. The pool's workers are forked from the forkserver, so
checks made here once, in the server, are made for every worker of every run: a run's workers start
warm instead of each paying about 35 ms of CPU (taken from an engine generating beside them).
The answers here are fixed text; nothing from a model runs in the server.
"""

from __future__ import annotations

from harness.grading.math.normalize import clean_answer
from harness.grading.math.parse import parse_answer
from harness.grading.math.symbolic import Options, run_job

# Forms that reach the workers: expressions with unknowns against numbers, constants, roots,
# fractions, powers, intervals, sets, equations, decimals and percentages.
_FORMS = [("x y z", "5"), ("e r", "12"), ("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}"), ("x^2+2x+1", "(x+1)^2"),
          ("2\\pi", "6.2832"), ("(1, 2]", "(1, 2]"), ("\\{1, 2\\}", "\\{2, 1\\}"), ("y = 2x + 3", "2x - y = -3"),
          ("\\sin(30^\\circ)", "\\frac12"), ("3 + 4i", "4i+3"), ("\\log_2 8", "3"), ("\\binom{5}{2}", "10")]


def _warm() -> None:
    for opts in (Options("strip", 0.0, "exact", "any"), Options("strip", 0.0, "rounded", "any")):
        for a, b in _FORMS:
            try:
                x, y = parse_answer(clean_answer(a, False)), parse_answer(clean_answer(b, False))
            except Exception:  # a form this parser no longer reads: it only warms less
                continue
            run_job(("canon", x, opts))
            run_job(("equiv", x, y, opts))


_warm()
