"""The computation graph of a GSM8K-style solution, read from its calculator annotations.

Each annotation `<<expr=result>>` is a step. Every number in a step's expression is bound to where
its value comes from: an earlier step's result, a number in the question (possibly as a percentage,
`150%` read as 1.5), or a constant explained by the question's words (`half` -> 2, `dozen` -> 12)
or a unit (`100`, `60`). A number that nothing explains makes the item unusable: it was computed in
prose, so changing the question would not change it.

A number can have several explanations (a question number 4 and a step result 4). All are kept; when
the graph is recomputed with new inputs, they must still agree, else the recomputation fails
(`Ambiguous`): a variant never relies on a guess about which one the solution meant.

Recomputation uses `synth.expr` (exact fractions, never `eval`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, Mapping, Sequence

from harness.synth import expr as ex
from harness.synth.quantities import Quantity, find_quantities, fraction_values, word_values

_ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>]*)>>")
# Constants any calculation may use: percentages divide by 100.
ALWAYS_CONSTANTS = frozenset({Fraction(0), Fraction(1), Fraction(100), Fraction(1, 100)})
MAX_STEPS = 40


class GraphError(ValueError):
    """The solution cannot be turned into a graph; `reason` is a short code, the message says more."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class Ambiguous(ValueError):
    """A number's explanations disagree under the new inputs."""


@dataclass(frozen=True, slots=True)
class Source:
    """value = scale * (the source's value) + offset. kind q: question group `ref`; s: step `ref`;
    c: a constant (value in `offset`)."""

    kind: Literal["q", "s", "c"]
    ref: int
    scale: Fraction = Fraction(1)
    offset: Fraction = Fraction(0)


@dataclass(frozen=True, slots=True)
class Group:
    """All occurrences of one value in the question: they change together, so whichever occurrence a
    step meant, it gets the same new value."""

    value: Fraction
    occurrences: tuple[int, ...]  # indices into Graph.quantities
    fixed: str | None  # why it may not change


@dataclass(frozen=True, slots=True)
class Step:
    text: str  # the expression as annotated
    tree: ex.Expr
    result_text: str
    value: Fraction  # exact value with the original inputs
    sources: tuple[tuple[Source, ...], ...]  # per number leaf, its explanations
    span: tuple[int, int]  # of the annotation in the solution


@dataclass(frozen=True, slots=True)
class Graph:
    question: str
    solution: str
    gold: Fraction
    quantities: tuple[Quantity, ...]
    groups: tuple[Group, ...]
    steps: tuple[Step, ...]
    final: int  # the step whose result is the answer

    def original_inputs(self) -> dict[int, Fraction]:
        return {i: g.value for i, g in enumerate(self.groups)}

    def used_groups(self) -> set[int]:
        """Question groups some step reads (these, and only these, may change)."""
        return {s.ref for st in self.steps[: self.final + 1] for alts in st.sources for s in alts if s.kind == "q"}


def gold_of(solution: str) -> Fraction:
    if "####" not in solution:
        raise GraphError("no_gold", "solution has no '#### answer' line")
    raw = solution.rsplit("####", 1)[1].strip().replace(",", "").replace("$", "")
    try:
        return ex.decimal_value(raw.lstrip("-")) * (-1 if raw.startswith("-") else 1)
    except ValueError:
        raise GraphError("gold_not_number", f"final answer {raw!r} is not a plain number") from None


def _result_value(text: str) -> Fraction | None:
    t = text.strip().replace(",", "").replace("$", "")
    neg = t.startswith("-")
    try:
        v = ex.decimal_value(t[1:] if neg else t)
    except ValueError:
        return None
    return -v if neg else v


def _groups(quantities: Sequence[Quantity], extra_fixed: set[Fraction]) -> list[Group]:
    by_value: dict[Fraction, list[int]] = {}
    for i, q in enumerate(quantities):
        by_value.setdefault(q.value, []).append(i)
    out = []
    for value, occ in by_value.items():
        fixed = next((quantities[i].fixed for i in occ if quantities[i].fixed), None)
        if fixed is None and value in extra_fixed:
            fixed = "also a constant"
        out.append(Group(value, tuple(occ), fixed))
    return out


def _views(group_index: int, group: Group, percent: bool) -> list[tuple[Fraction, Source]]:
    """The values a question number can enter a calculation as."""
    v = group.value
    views = [(v, Source("q", group_index))]
    if percent:
        h = Fraction(1, 100)
        views += [(v * h, Source("q", group_index, h)), (1 + v * h, Source("q", group_index, h, Fraction(1))),
                  (1 - v * h, Source("q", group_index, -h, Fraction(1))),
                  (100 - v, Source("q", group_index, Fraction(-1), Fraction(100)))]
    return views


def build(question: str, solution: str) -> Graph:
    """The graph of one item; raises GraphError with a reason code when it cannot be built."""
    gold = gold_of(solution)
    quantities = find_quantities(question)
    # Values the words, fractions and conventions of the question explain: a question number with one
    # of these values stays fixed (a step reading it might mean the constant).
    constants = word_values(question) | fraction_values(question) | ALWAYS_CONSTANTS
    # Every digit run of the question (fractions, times, ...) explains a number nothing else does.
    digit_values = {ex.decimal_value(d) for d in re.findall(r"\d+(?:\.\d+)?", question.replace(",", ""))}
    groups = _groups(quantities, constants)
    views: dict[Fraction, list[Source]] = {}
    for gi, g in enumerate(groups):
        percent = any(quantities[i].percent for i in g.occurrences)
        for value, src in _views(gi, g, percent):
            views.setdefault(value, []).append(src)

    matches = list(_ANNOTATION.finditer(solution))
    if not matches:
        raise GraphError("no_annotations", "solution has no <<expr=result>> annotations")
    if len(matches) > MAX_STEPS:
        raise GraphError("too_many_steps", f"more than {MAX_STEPS} annotations")
    steps: list[Step] = []
    results: dict[Fraction, list[int]] = {}  # value -> steps that produced it (exact or as annotated)
    for m in matches:
        text, result_text = m.group(1), m.group(2)
        try:
            tree = ex.parse(text)
        except ex.ExprError as exc:
            raise GraphError("bad_annotation", f"annotation {text!r}: {exc}") from None
        sources = []
        for num in ex.numbers(tree):
            alts = [Source("s", j) for j in results.get(num.value, [])]
            alts += views.get(num.value, [])
            if num.value in constants or (not alts and num.value in digit_values):
                alts.append(Source("c", -1, Fraction(0), num.value))
            if not alts:
                raise GraphError("unexplained_number",
                                 f"{num.text} in <<{text}>> is neither in the question nor an earlier result")
            sources.append(tuple(alts))
        try:
            value = ex.evaluate(tree)
        except ex.ExprError as exc:
            raise GraphError("bad_annotation", f"annotation {text!r}: {exc}") from None
        index = len(steps)
        steps.append(Step(text, tree, result_text, value, tuple(sources), m.span()))
        results.setdefault(value, []).append(index)
        shown = _result_value(result_text)
        if shown is not None and shown != value:
            results.setdefault(shown, []).append(index)
    final = max((i for i, st in enumerate(steps) if st.value == gold), default=None)
    if final is None:
        shown_final = [i for i, st in enumerate(steps) if _result_value(st.result_text) == gold]
        if shown_final:
            raise GraphError("rounded_result", f"the answer {gold} is an annotated result that does not recompute "
                                               f"exactly ({steps[shown_final[-1]].text} = {steps[shown_final[-1]].value})")
        raise GraphError("answer_not_computed", f"no annotation computes the answer {gold}")
    return Graph(question, solution, gold, tuple(quantities), tuple(groups), tuple(steps), final)


def _source_value(src: Source, inputs: Mapping[int, Fraction], values: Sequence[Fraction]) -> Fraction:
    if src.kind == "c":
        return src.offset
    base = inputs[src.ref] if src.kind == "q" else values[src.ref]
    return src.scale * base + src.offset


def recompute(graph: Graph, inputs: Mapping[int, Fraction]) -> list[Fraction]:
    """Every step's value (up to the final one) with question groups set to `inputs`. Raises Ambiguous
    when a number's explanations disagree, ex.ExprError on division by zero or size."""
    values: list[Fraction] = []
    for step in graph.steps[: graph.final + 1]:
        leaf_values: list[Fraction] = []
        for alts in step.sources:
            candidates = {_source_value(s, inputs, values) for s in alts}
            if len(candidates) != 1:
                raise Ambiguous(f"in <<{step.text}>> a number reads as {sorted(candidates)}")
            leaf_values.append(candidates.pop())
        values.append(ex.evaluate(step.tree, lambda n, leaves=leaf_values: leaves[n.index]))
    return values


def leaf_values(graph: Graph, inputs: Mapping[int, Fraction], values: Sequence[Fraction]) -> list[list[Fraction]]:
    """Per step, the value of each number leaf under `inputs` (after a successful `recompute`)."""
    return [[_source_value(alts[0], inputs, values) for alts in st.sources] for st in graph.steps[: graph.final + 1]]
