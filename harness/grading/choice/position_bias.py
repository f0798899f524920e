"""Position bias of a model on multiple choice, measured from graded samples across orderings.

A model without position bias picks a shown position only because of what is written there: over
items whose gold answer is spread evenly over positions, the positions it picks are spread evenly
too, and its accuracy does not depend on where the gold answer was shown. This module measures both
from the grades of a choice task (`Grade.extracted` is the letter as shown; `item.meta["perms"]` says
what was shown where), as a pure function over records, so the runner, `score` and the report can
all print it. Run with `--permutations N` (N = number of choices, k a multiple of N) to put every
item's gold answer at every position; the majority vote over those orderings cancels the bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from harness.grading.choice.grade import LETTERS, item_perms
from harness.records import Grade, Item


@dataclass(frozen=True, slots=True)
class PositionBias:
    """Position statistics over all graded samples of a choice task.

    `chosen[j]`: answered samples that picked shown position j; `uniform[j]`: what that count would
    be if positions were picked at random (1/n_choices each); `gold_at[j]`: samples whose gold was
    shown at j (what a perfect model would pick). `tv_uniform` and `tv_gold`: total variation distance
    of the picked-position shares from those two references (0 = none, 1 = all mass elsewhere).
    `chi2`, `dof`, `p_value`: Pearson's test of `chosen` against `uniform` (p_value None without
    scipy). `accuracy_by_gold_position[j]`: share of samples correct when gold was shown at j (None
    where no sample had it there); `accuracy_spread`: max minus min of those. `accuracy_by_ordering[v]`:
    accuracy of the samples that saw an item's v-th ordering (sample i sees ordering i % N)."""

    positions: tuple[str, ...]
    n_samples: int
    n_answered: int
    chosen: tuple[int, ...]
    uniform: tuple[float, ...]
    gold_at: tuple[int, ...]
    tv_uniform: float
    tv_gold: float
    chi2: float
    dof: int
    p_value: float | None
    accuracy_by_gold_position: tuple[float | None, ...]
    accuracy_spread: float | None
    accuracy_by_ordering: tuple[float, ...]

    def to_json(self) -> dict:
        return {f: getattr(self, f) for f in self.__slots__}


def _tv(counts: Sequence[float], ref: Sequence[float]) -> float:
    a, b = sum(counts), sum(ref)
    if not a or not b:
        return 0.0
    return 0.5 * sum(abs(x / a - y / b) for x, y in zip(counts, ref))


def position_bias(graded: Sequence[tuple[Item, Sequence[Grade]]]) -> PositionBias:
    """Position bias over (item, grades in sample order) pairs of a choice task. Samples without a
    letter (unparseable, timeout) count in `n_samples` and as wrong in the accuracies, not in `chosen`."""
    width = 0
    for item, _ in graded:
        width = max(width, len(item_perms(item)[0]))
    chosen = [0] * width
    uniform = [0.0] * width
    gold_at = [0] * width
    correct_at = [0] * width
    by_ordering: dict[int, list[int]] = {}
    n_samples = n_answered = 0
    for item, grades in graded:
        perms = item_perms(item)
        gold = LETTERS.index(item.gold.strip().upper())
        for i, g in enumerate(grades):
            perm = perms[i % len(perms)]
            n_samples += 1
            shown_gold = perm.index(gold)
            gold_at[shown_gold] += 1
            ok = g.verdict == "correct"
            correct_at[shown_gold] += ok
            tally = by_ordering.setdefault(i % len(perms), [0, 0])
            tally[0] += ok
            tally[1] += 1
            if g.extracted is not None and g.verdict in ("correct", "incorrect"):
                n_answered += 1
                chosen[LETTERS.index(g.extracted)] += 1
                for j in range(len(perm)):
                    uniform[j] += 1 / len(perm)
    used = [j for j in range(width) if uniform[j] > 0]
    chi2 = sum((chosen[j] - uniform[j]) ** 2 / uniform[j] for j in used)
    dof = max(len(used) - 1, 0)
    p_value: float | None = None
    if dof:
        try:
            from scipy.stats import chi2 as chi2_dist

            p_value = float(chi2_dist.sf(chi2, dof))
        except ImportError:  # pragma: no cover - scipy is installed with the harness
            p_value = None
    acc = tuple(correct_at[j] / gold_at[j] if gold_at[j] else None for j in range(width))
    present = [a for a in acc if a is not None]
    return PositionBias(
        positions=tuple(LETTERS[:width]),
        n_samples=n_samples,
        n_answered=n_answered,
        chosen=tuple(chosen),
        uniform=tuple(uniform),
        gold_at=tuple(gold_at),
        tv_uniform=_tv(chosen, uniform),
        tv_gold=_tv(chosen, gold_at),
        chi2=chi2,
        dof=dof,
        p_value=p_value,
        accuracy_by_gold_position=acc,
        accuracy_spread=(max(present) - min(present)) if present else None,
        accuracy_by_ordering=tuple(by_ordering[v][0] / by_ordering[v][1] for v in sorted(by_ordering)),
    )


def format_position_bias(pb: PositionBias) -> str:
    """A small text table for the terminal: picked share, gold share and accuracy per position."""
    if not pb.n_samples:
        return "position bias: no samples"
    lines = [f"position bias over {pb.n_samples} samples ({pb.n_answered} answered)",
             "pos  picked   gold-at  acc-when-gold-here"]
    for j, pos in enumerate(pb.positions):
        picked = pb.chosen[j] / pb.n_answered if pb.n_answered else 0.0
        gold = pb.gold_at[j] / pb.n_samples
        acc = pb.accuracy_by_gold_position[j]
        lines.append(f"{pos:>3}  {picked:6.1%}  {gold:7.1%}  {'-' if acc is None else format(acc, '.1%'):>8}")
    p = "n/a" if pb.p_value is None else f"{pb.p_value:.3g}"
    spread = "n/a" if pb.accuracy_spread is None else f"{pb.accuracy_spread:.1%}"
    lines.append(f"TV vs uniform {pb.tv_uniform:.3f}, vs gold positions {pb.tv_gold:.3f}; "
                 f"chi2 {pb.chi2:.1f} (dof {pb.dof}, p {p}); accuracy spread over gold positions {spread}")
    if len(pb.accuracy_by_ordering) > 1:
        lines.append("accuracy by ordering: " + ", ".join(f"{a:.1%}" for a in pb.accuracy_by_ordering))
    return "\n".join(lines)


def position_bias_report(graded: Sequence[tuple[Item, Sequence[Grade]]]):
    """The position-bias analysis as a task report (shown after `harness run`, kept in its JSON)."""
    from harness.task import Report

    pb = position_bias(graded)
    return Report("position bias", pb.to_json(), format_position_bias(pb))
