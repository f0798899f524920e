"""Splitting a test file into cases: inputs to call the program with, and the value the test expects.

A test statement of one of these forms is a *case* (P is a call of the function under test,
`candidate(ARGS)` in HumanEval or the entry point by name in MBPP, optionally wrapped in `set`,
`frozenset`, `tuple`, `list` or `sorted`):

    assert P == E          assert E == P          assert P != E
    assert P is True       assert P is False      assert P is None
    assert P               assert not P
    assert abs(P - E) < T  (also <=, math.fabs, abs(E - P))
    assert math.isclose(P, E, rel_tol=R, abs_tol=A)

The transformation only parses (`ast`): each such assert becomes a call of `__case__` that hands the
harness the callee, the argument values, a thunk for E and the tolerances, instead of calling the
function. The transformed test is then run once against the *reference* program in the sandbox
(`harness.sandbox` record mode): loops, random inputs, helper calls and imports of the test run as
written, every E and every argument is evaluated there (so an expected value that calls the prompt's
own helper uses the reference's helper), and the reference's own output on each case is recorded.
Only then does a candidate run: its child gets the arguments (plain data, never an expected value),
calls the function, and sends back the outputs as plain data; the parent compares (`compare`).

A test is *not* split (it is replayed in the program's process) when any other statement still calls
the function under test (`x = candidate(...)` followed by a property check), when an assert that
refers to it has another form, or, later, when the recorded values are not plain data or the
reference does not pass its own cases.
"""

from __future__ import annotations

import ast
import math
import warnings
from dataclasses import dataclass

from harness.sandbox.plain import check_spread

HOOK = "__case__"
WRAPPERS = ("set", "frozenset", "tuple", "list", "sorted")
KINDS = ("eq", "ne", "is", "truthy", "falsy", "abs", "isclose")


@dataclass(frozen=True, slots=True)
class Split:
    """`source` is the transformed test (None when it cannot be split, `reason` says why)."""

    source: str | None
    cases: int  # assert statements turned into cases (a loop's body counts once)
    reason: str | None = None


def _probe(node: ast.AST, names: frozenset[str]) -> tuple[str, ast.Call] | None:
    """(wrapper or "", the call) when `node` is a call of the function under test, maybe wrapped."""
    wrap = ""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in WRAPPERS
            and len(node.args) == 1 and not node.keywords):
        wrap, node = node.func.id, node.args[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
        if any(_calls(a, names) for a in [*node.args, *(k.value for k in node.keywords)]):
            return None  # candidate(candidate(x)): the inner call would be the reference's
        return wrap, node
    return None


def _calls(node: ast.AST, names: frozenset[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _is_abs(node: ast.AST) -> ast.AST | None:
    if not (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords):
        return None
    f = node.func
    if (isinstance(f, ast.Name) and f.id == "abs") or (
            isinstance(f, ast.Attribute) and f.attr == "fabs" and isinstance(f.value, ast.Name) and f.value.id == "math"):
        return node.args[0]
    return None


def _match(test: ast.expr, names: frozenset[str]):
    """(kind, wrap, call, expected expr, params {name: expr}) or None."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        p = _probe(test.operand, names)
        return None if p is None else ("falsy", p[0], p[1], ast.Constant(None), {})
    p = _probe(test, names)
    if p is not None:
        return ("truthy", p[0], p[1], ast.Constant(None), {})
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "isclose" \
            and isinstance(test.func.value, ast.Name) and test.func.value.id == "math" and len(test.args) == 2:
        p = _probe(test.args[0], names)
        kws = {k.arg: k.value for k in test.keywords}
        if p is None or p[0] or set(kws) - {"rel_tol", "abs_tol"} or None in kws:
            return None
        return ("isclose", "", p[1], test.args[1], kws)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    op, left, right = test.ops[0], test.left, test.comparators[0]
    if isinstance(op, (ast.Eq, ast.NotEq)):
        for a, b in ((left, right), (right, left)):
            p = _probe(a, names)
            if p is not None:
                return ("eq" if isinstance(op, ast.Eq) else "ne", p[0], p[1], b, {})
        return None
    if isinstance(op, ast.Is):
        p = _probe(left, names)
        if p is None or p[0] or not (isinstance(right, ast.Constant) and right.value in (True, False, None)):
            return None
        return ("is", "", p[1], right, {})
    if isinstance(op, (ast.Lt, ast.LtE)):
        inner = _is_abs(left)
        if not (isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Sub)) or _calls(right, names):
            return None
        for a, b in ((inner.left, inner.right), (inner.right, inner.left)):
            p = _probe(a, names)
            if p is not None and not p[0]:
                return ("abs", "", p[1], b, {"tol": right, "strict": ast.Constant(isinstance(op, ast.Lt))})
    return None


class _Rewrite(ast.NodeTransformer):
    def __init__(self, names: frozenset[str]):
        self.names = names
        self.cases = 0
        self.unmatched: ast.Assert | None = None

    def visit_Assert(self, node: ast.Assert):
        m = _match(node.test, self.names)
        if m is None:
            if _calls(node.test, self.names) and self.unmatched is None:
                self.unmatched = node
            return node
        kind, wrap, call, expected, params = m
        self.cases += 1
        args = ast.Tuple(elts=list(call.args), ctx=ast.Load())
        kwargs = ast.Dict(keys=[k.arg and ast.Constant(k.arg) for k in call.keywords],
                          values=[k.value for k in call.keywords])
        thunk = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[],
                                              defaults=[]), body=expected)
        hook = ast.Call(func=ast.Name(HOOK, ast.Load()), args=[
            ast.Constant(kind), ast.Constant(wrap), ast.Constant(call.func.id), call.func, args, kwargs, thunk,
            ast.Dict(keys=[ast.Constant(k) for k in params], values=list(params.values())),
            ast.Constant(node.lineno)], keywords=[])
        return ast.copy_location(ast.Expr(hook), node)


def split_tests(tests: str, entry_point: str, extra_names: tuple[str, ...] = ("candidate",)) -> Split:
    """The transformed test source, or why it cannot be split (see the module docstring)."""
    names = frozenset((entry_point, *extra_names))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the datasets' own invalid escapes
            tree = ast.parse(tests)
    except (SyntaxError, ValueError, RecursionError):
        return Split(None, 0, "the tests do not parse")
    rw = _Rewrite(names)
    tree = rw.visit(tree)
    if rw.unmatched is not None:
        return Split(None, 0, f"tests line {rw.unmatched.lineno}: an assert of another form "
                              f"({ast.unparse(rw.unmatched.test)[:80]})")
    # What is left may name the function only to hand it to `check` (HumanEval's `check(f)`) or as a
    # case's callee; any other call of it would be the candidate's, in the candidate's process.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == HOOK:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            if not _inside_expected(tree, node):
                return Split(None, 0, f"tests line {node.lineno}: calls `{node.func.id}` outside a case")
    if rw.cases == 0:
        return Split(None, 0, "no assert of a known form")
    ast.fix_missing_locations(tree)
    return Split(ast.unparse(tree), rw.cases)


def _inside_expected(tree: ast.AST, target: ast.AST) -> bool:
    """True when `target` lies in a case's expected-value thunk or parameters (evaluated with the
    reference there: an expected value may call the prompt's own function, as HumanEval/33 does)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == HOOK:
            for part in (node.args[6], node.args[7]):
                if any(n is target for n in ast.walk(part)):
                    return True
    return False


# -- comparing plain data --------------------------------------------------------------------------

def compare(kind: str, wrap: str, output, expected, params: dict) -> bool:
    """Does `output` (plain data decoded by the parent) pass the case? The rules are the test's own,
    applied by this process to plain values, so nothing of the program runs:

    - eq / ne: Python's `==` on plain data, as the test would (1 == 1.0 == True; a list never equals a
      tuple; NaN equals nothing; set and dict equality ignore order); a wrapper (`set`, `tuple`, ...)
      is applied here first, and a wrapper that fails (unhashable members) fails the case.
    - is: `output is True/False/None`: only that exact value.
    - truthy / falsy: Python truth value of the plain output.
    - abs: `abs(output - expected) < tol` (or `<=`), numbers only (bool counts as a number, as in Python).
    - isclose: `math.isclose(output, expected, rel_tol=..., abs_tol=...)`, numbers only.
    """
    try:
        if wrap in ("set", "frozenset") and type(output) in (list, tuple):
            check_spread(output)  # a set of members that hash alike would take quadratic time here
        if wrap:
            output = {"set": set, "frozenset": frozenset, "tuple": tuple, "list": list, "sorted": sorted}[wrap](output)
        if kind == "eq":
            return bool(output == expected)
        if kind == "ne":
            return bool(output != expected)
        if kind == "is":
            return output is expected
        if kind == "truthy":
            return bool(output)
        if kind == "falsy":
            return not output
        if kind in ("abs", "isclose"):
            if not all(isinstance(v, (int, float)) for v in (output, expected)):
                return False
            if kind == "abs":
                diff = abs(output - expected)
                return bool(diff < params["tol"]) if params.get("strict", True) else bool(diff <= params["tol"])
            return math.isclose(output, expected, **{k: v for k, v in params.items() if k in ("rel_tol", "abs_tol")})
    except (TypeError, ValueError, OverflowError, RecursionError):
        return False
    raise ValueError(f"unknown case kind {kind!r}")
