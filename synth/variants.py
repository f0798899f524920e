"""Numeric variants of GSM8K-style items: new input numbers, every step recomputed, a new gold.

For one item (question + solution with `<<expr=result>>` annotations):
1. build its computation graph (`synth.graph.build`); items whose graph cannot be built are skipped
   with a reason (`unexplained_number`: a value computed in prose; `answer_not_computed`; ...);
2. recompute it with the original numbers: it must reproduce the gold, else the item is skipped;
3. draw new values for the question numbers the steps read (`quantities.draw_value`: same magnitude
   and granularity, integers stay integers), recompute, and keep the draw only when every step keeps
   its kind (an integer result stays an integer, a non-negative one non-negative, a positive one
   positive), no two question numbers collide, and the rewritten item, read back from its own text,
   recomputes to the new gold (self-consistency);
4. rewrite the question (each number in its original spelling style) and the solution (annotations
   with new numbers and results; prose numbers mapped old -> new when that mapping is unambiguous,
   else the solution is reduced to its annotated steps).
Randomness: one `random.Random` per item, seeded from (seed, item id), so a variant does not depend on
which other items were processed.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping, Sequence

from harness.records import Item

from harness.synth import expr as ex
from harness.synth.graph import Ambiguous, Graph, GraphError, build, leaf_values, recompute
from harness.synth.quantities import draw_value, spell

MAX_VALUE = Fraction(10 ** 9)
_PROSE_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+|(?=\.\d))(\.\d+)?(?![\w]|\.\d)")


@dataclass(frozen=True, slots=True)
class Variant:
    question: str
    solution: str
    gold: Fraction
    substitutions: tuple[tuple[str, str], ...]  # (old spelling, new spelling) per changed question number
    prose_kept: bool  # False when the solution was reduced to its annotated steps


@dataclass(frozen=True)
class ItemOutcome:
    """What happened to one parent item: its variants, or why there are none; rejected draws by reason."""

    parent_id: str
    variants: tuple[Variant, ...]
    skipped: str | None = None  # reason code when the item yields no graph / no free number
    detail: str | None = None
    original_reproduced: bool | None = None  # None when no graph was built
    rejected_draws: Mapping[str, int] = field(default_factory=dict)


def _kind_ok(old: Fraction, new: Fraction) -> str | None:
    """Why `new` may not replace `old` as a step result, or None."""
    if old.denominator == 1 and new.denominator != 1:
        return "not_integer"
    if old >= 0 and new < 0:
        return "negative"
    if old > 0 and new == 0:
        return "zero"
    if abs(new) > MAX_VALUE:
        return "too_large"
    if new.denominator != 1 and ex.format_decimal(new, 4) != ex.format_decimal(new, 6):
        return "long_decimal"
    return None


def _rewrite_question(graph: Graph, inputs: Mapping[int, Fraction]) -> tuple[str, list[tuple[str, str]]]:
    edits: list[tuple[int, int, str, str]] = []
    for gi, group in enumerate(graph.groups):
        if inputs[gi] == group.value:
            continue
        for qi in group.occurrences:
            q = graph.quantities[qi]
            edits.append((q.start, q.end, q.text, spell(inputs[gi], q)))  # ValueError: spelling impossible
    text = graph.question
    for start, end, _, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text, [(old, new) for _, _, old, new in sorted(edits)]


def _value_map(graph: Graph, inputs: Mapping[int, Fraction], values: Sequence[Fraction],
               leaves: Sequence[Sequence[Fraction]]) -> dict[Fraction, set[Fraction]]:
    """old value -> the new values it may have become (more than one: prose cannot be mapped)."""
    out: dict[Fraction, set[Fraction]] = {}
    for gi, g in enumerate(graph.groups):
        out.setdefault(g.value, set()).add(inputs[gi])
    for i, st in enumerate(graph.steps[: graph.final + 1]):
        out.setdefault(st.value, set()).add(values[i])
        shown = ex.decimal_value(st.result_text.strip().replace(",", "").lstrip("$")) \
            if re.fullmatch(r"\s*\$?\d[\d,]*(\.\d+)?\s*", st.result_text) else None
        if shown is not None:
            out.setdefault(shown, set()).add(values[i])
        for num, new in zip(ex.numbers(st.tree), leaves[i]):
            out.setdefault(num.value, set()).add(new)
    return out


def _rewrite_solution(graph: Graph, inputs: Mapping[int, Fraction], values: Sequence[Fraction]) -> tuple[str, bool]:
    """The solution with new numbers, cut after the final step's line, ending in `#### gold`."""
    leaves = leaf_values(graph, inputs, values)
    steps = graph.steps[: graph.final + 1]
    rendered = []  # per step: (expression with new numbers, new result), both as decimals
    for i, st in enumerate(steps):
        lv = leaves[i]
        rendered.append((ex.render(st.tree, lambda n, lv=lv: ex.format_decimal(lv[n.index])), ex.format_decimal(values[i])))
    gold_line = f"#### {ex.format_decimal(values[graph.final])}"
    mapping = _value_map(graph, inputs, values, leaves)
    end = graph.solution.find("\n", steps[-1].span[1])
    head = graph.solution if end < 0 else graph.solution[:end]
    head = head.split("####")[0].rstrip()
    out, pos, ok = [], 0, True
    for (start, stop), (expr_text, res) in zip((st.span for st in steps), rendered):
        mapped, good = _map_prose(head[pos:start], mapping)
        ok &= good
        out.append(mapped + f"<<{expr_text}={res}>>")
        pos = stop
        # The number written right after an annotation is its result.
        m = re.match(r"\$?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?", head[pos:])
        if m:
            out.append(head[pos: pos + m.start(1)] + (_commas(res) if "," in m.group(0) else res))
            pos += m.end()
    mapped, good = _map_prose(head[pos:], mapping)
    ok &= good
    if ok:
        return "".join(out) + mapped + "\n" + gold_line, True
    # Some prose number could stand for two different new values: keep only the annotated steps.
    return "\n".join(f"{e}=<<{e}={r}>>{r}" for e, r in rendered) + "\n" + gold_line, False


def _commas(s: str) -> str:
    whole, dot, frac = s.partition(".")
    neg = whole.startswith("-")
    return ("-" if neg else "") + f"{int(whole.lstrip('-')):,}" + dot + frac


def _map_prose(text: str, mapping: Mapping[Fraction, set[Fraction]]) -> tuple[str, bool]:
    ok = True

    def sub(m: re.Match[str]) -> str:
        nonlocal ok
        old = ex.decimal_value(m.group(0).replace(",", ""))
        news = mapping.get(old)
        if not news or news == {old}:
            return m.group(0)
        if len(news) > 1:
            ok = False
            return m.group(0)
        new = ex.format_decimal(next(iter(news)))
        if m.group(0).startswith(".") and new.startswith("0."):
            return new[1:]  # `.3` stays in its style: `.4`
        return _commas(new) if "," in m.group(0) else new

    return _PROSE_NUMBER.sub(sub, text), ok


def _draw(graph: Graph, free: Sequence[int], rng: random.Random) -> dict[int, Fraction]:
    inputs = graph.original_inputs()
    for gi in free:
        inputs[gi] = draw_value(graph.quantities[graph.groups[gi].occurrences[0]], rng)
    return inputs


def variants_of(parent_id: str, question: str, solution: str, n: int, seed: int = 0,
                attempts_per_variant: int = 25) -> ItemOutcome:
    """Up to `n` distinct valid variants of one item (see the module docstring)."""
    try:
        graph = build(question, solution)
    except GraphError as exc:
        return ItemOutcome(parent_id, (), exc.reason, str(exc))
    try:
        original = recompute(graph, graph.original_inputs())
    except (Ambiguous, ex.ExprError) as exc:
        return ItemOutcome(parent_id, (), "original_not_reproduced", str(exc), False)
    if original[graph.final] != graph.gold:
        return ItemOutcome(parent_id, (), "original_not_reproduced",
                           f"recomputed {original[graph.final]}, gold {graph.gold}", False)
    free = sorted(gi for gi in graph.used_groups() if graph.groups[gi].fixed is None)
    if not free:
        return ItemOutcome(parent_id, (), "no_free_number", "every number the steps read is fixed", True)
    rng = random.Random(f"{seed}:{parent_id}")
    rejected: Counter[str] = Counter()
    found: list[Variant] = []
    seen = {question}
    for _ in range(n * attempts_per_variant):
        if len(found) >= n:
            break
        inputs = _draw(graph, free, rng)
        reason, variant = _try(graph, inputs, original)
        if variant is not None and variant.question in seen:
            reason, variant = "duplicate", None
        if variant is None:
            rejected[reason or "unknown"] += 1
            continue
        seen.add(variant.question)
        found.append(variant)
    return ItemOutcome(parent_id, tuple(found), None if found else "no_valid_draw",
                       None if found else ", ".join(f"{k}={v}" for k, v in rejected.most_common()),
                       True, dict(rejected))


def _try(graph: Graph, inputs: dict[int, Fraction], original: Sequence[Fraction]) -> tuple[str | None, Variant | None]:
    """(None, variant) or (reason, None) for one draw."""
    if all(inputs[gi] == g.value for gi, g in enumerate(graph.groups)):
        return "unchanged", None
    if len(set(inputs.values())) != len(inputs):
        return "collision", None
    try:
        values = recompute(graph, inputs)
    except Ambiguous:
        return "ambiguous", None
    except ex.ExprError:
        return "arithmetic", None
    for old, new in zip(original, values):
        why = _kind_ok(old, new)
        if why:
            return why, None
    if values[graph.final] == graph.gold:
        return "same_answer", None
    try:
        question, subs = _rewrite_question(graph, inputs)
    except ValueError:
        return "spelling", None
    solution, prose_kept = _rewrite_solution(graph, inputs, values)
    # Read the variant back from its own text: it must be an item of the same shape with the new gold.
    try:
        again = build(question, solution)
        if recompute(again, again.original_inputs())[again.final] != values[graph.final]:
            return "not_self_consistent", None
    except (GraphError, Ambiguous, ex.ExprError):
        return "not_self_consistent", None
    return None, Variant(question, solution, values[graph.final], tuple(subs), prose_kept)


def variant_items(parent: Item, outcome: ItemOutcome, seed: int) -> list[Item]:
    """Items `<parent id>/v<n>`; fields `question` and `answer` (the rewritten solution, so a variant
    can be varied again); meta says where it came from."""
    items = []
    for j, v in enumerate(outcome.variants):
        meta: dict[str, Any] = {
            "synth": "gsm8k_variant", "parent": parent.id, "parent_gold": parent.gold, "seed": seed,
            "substitutions": [list(s) for s in v.substitutions], "prose_kept": v.prose_kept,
        }
        items.append(Item(id=f"{parent.id}/v{j}", gold=ex.format_decimal(v.gold),
                          fields={"question": v.question, "answer": v.solution}, meta=meta))
    return items


def summarize(outcomes: Sequence[ItemOutcome]) -> dict[str, Any]:
    """Counts over a batch: items with a variant, variants, how many graphs reproduce their gold, why
    items were skipped and why draws were rejected."""
    skipped = Counter(o.skipped for o in outcomes if o.skipped)
    draws: Counter[str] = Counter()
    for o in outcomes:
        draws.update(o.rejected_draws)
    n = len(outcomes)
    with_graph = [o for o in outcomes if o.original_reproduced is not None]
    reproduced = sum(1 for o in with_graph if o.original_reproduced)
    with_variant = sum(1 for o in outcomes if o.variants)
    return {
        "items": n,
        "items_with_variant": with_variant,
        "items_with_variant_rate": with_variant / n if n else 0.0,
        "variants": sum(len(o.variants) for o in outcomes),
        "variants_with_prose": sum(v.prose_kept for o in outcomes for v in o.variants),
        "graphs_built": len(with_graph),
        "original_reproduced": reproduced,
        "original_reproduced_rate": reproduced / n if n else 0.0,
        "skipped": dict(skipped.most_common()),
        "rejected_draws": dict(draws.most_common()),
    }


def make_variants(rows: Sequence[Item], n: int, seed: int = 0) -> tuple[list[Item], list[ItemOutcome]]:
    """Variants of items whose `fields` hold `question` and `answer` (the annotated solution)."""
    items: list[Item] = []
    outcomes: list[ItemOutcome] = []
    for parent in rows:
        outcome = variants_of(parent.id, parent.fields["question"], parent.fields["answer"], n, seed)
        outcomes.append(outcome)
        items += variant_items(parent, outcome, seed)
    return items, outcomes
