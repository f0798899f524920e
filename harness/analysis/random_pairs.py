"""Preference pairs cut at random positions of the samples a pivotal search made its pairs from:
the control for DPO on pivotal pairs (`harness loop`'s `[dpo]` arms).

Everything but the place of the cut is the pivotal pairs' own: for each pivotal pair, one pair is cut
in the same sample (same item, same stored sample of the same run) at a position drawn uniformly
from the sample's tokens that are not pivotal tokens of the search; p before and after the sample's
token there come from N rollouts made (or found in the store) exactly as the search makes them
(`pivotal_run.Rollouts`: same model, sampling, N, grader), and the pair is made by the same rule
(`pivotal.pair_of`: the sample's token against the first token that most rollouts from the prefix
began with among those on the other side of p before it). Away from pivotal tokens that rule seldom
finds a token on the other side (p barely moves there: that is what makes them not pivotal), so where
it finds none the pair is the sample's token against the first token most rollouts from the prefix
began with, ordered by their estimates (the sample's p after its token, the other token's share of
right rollouts), a seeded coin where they are equal (`other_token_pair`); each line says which rule
made it (`rule`). A position where every rollout began with the sample's own token makes no pair;
another position of the same sample is drawn, and when a sample has none left, a position of
another of the samples the search searched. The draws are seeded.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Mapping, Sequence

from harness.analysis.pivotal import Estimate, Pair, pair_of
from harness.analysis.pivotal_run import Progress, Rollouts, _variants
from harness.analysis.preference import pair_row
from harness.errors import HarnessError
from harness.models import ModelSpec
from harness.pipeline.answers import grade_answers
from harness.pipeline.lifecycle import model_row, run_lifecycle
from harness.records import Completion, Item, Prompt, Sampling, stable_hash
from harness.task import Task

SampleKey = tuple[str, int]  # (item id, sample index in the source run)


@dataclass(frozen=True)
class RandomPairsReport:
    pairs: int
    wanted: int
    positions_tried: int
    rollouts: int
    generated: int
    tokens_generated: int
    seconds: float
    run_id: str | None
    same_rule: int = 0  # pairs made by the pivotal pairs' own rule (`pair_of`); the rest by `other_token_pair`

    def to_json(self) -> dict[str, Any]:
        return {"pairs": self.pairs, "wanted": self.wanted, "same_rule": self.same_rule,
                "positions_tried": self.positions_tried,
                "rollouts": self.rollouts, "generated": self.generated, "tokens_generated": self.tokens_generated,
                "seconds": self.seconds, "run_id": self.run_id}


def draw_position(n_pieces: int, excluded: set[int], rng: random.Random) -> int | None:
    """A position 0..n_pieces-1 not in `excluded`, uniformly; None when there is none."""
    free = [p for p in range(n_pieces) if p not in excluded]
    return rng.choice(free) if free else None


def plan_positions(targets: Sequence[SampleKey], lengths: Mapping[SampleKey, int],
                   excluded: dict[SampleKey, set[int]], rng: random.Random) -> list[tuple[SampleKey, int]]:
    """One (sample, position) per target: a free position of the target's sample, else of another
    sample (drawn uniformly among those with free positions). Positions drawn are added to
    `excluded` (so a sample is never cut twice at one place); targets left without any free
    position anywhere are dropped."""
    out = []
    for t in targets:
        key: SampleKey | None = t
        pos = draw_position(lengths[t], excluded.setdefault(t, set()), rng)
        if pos is None:
            open_ = sorted(k for k in lengths if len(excluded.setdefault(k, set())) < lengths[k])
            key = rng.choice(open_) if open_ else None
            pos = None if key is None else draw_position(lengths[key], excluded[key], rng)
        if key is None or pos is None:
            continue
        excluded[key].add(pos)
        out.append((key, pos))
    return out


def other_token_pair(token: str, p_token: float, next_tokens: Sequence[tuple[str, int, int]],
                     rng: random.Random) -> Pair | None:
    """The sample's `token` (p after it: `p_token`) against the first token, other than it, that most
    rollouts began with (`next_tokens`: token, rollouts, correct; ties: the token), the one with the
    higher estimate chosen, a coin of `rng` where they are equal. None when no rollout began otherwise."""
    options = [(n, tok, correct) for tok, n, correct in next_tokens if tok != token and n > 0]
    if not options:
        return None
    n, other, correct = min(options, key=lambda o: (-o[0], o[1]))
    share = correct / n
    if p_token > share or (p_token == share and rng.random() < 0.5):
        return Pair(token, other, p_token, share, n)
    return Pair(other, token, share, p_token, n)


def random_position_pairs(store: Any, spec: ModelSpec, task: Task, items: Mapping[str, Item],
                          pivotal_lines: Sequence[Mapping[str, Any]], pieces: Callable[[str], Sequence[str]],
                          get_backend: Callable[[], Any], params: Sampling, rollouts: int, *, seed: int,
                          chat: bool, pivotal_positions: Mapping[SampleKey, set[int]] | None = None,
                          samples: Sequence[SampleKey] = (), command: str | None = None,
                          progress: Progress | None = None) -> tuple[list[dict[str, Any]], RandomPairsReport]:
    """As many pairs as `pivotal_lines` (export-dpo's lines), each cut at a random non-pivotal position
    of the same stored sample (`source_run_id`, `item_id`, `sample` of the line), in the lines' format
    with `cut: "random"`; where a sample has no position left that makes a pair, one of `samples`
    (the other samples the search searched, of the same run) is cut instead. Fewer pairs only when
    every position of all of them has been tried. `pivotal_positions`: every pivotal token of the
    search per sample (default: the lines' own positions); none of them is ever drawn."""
    if not pivotal_lines:
        return [], RandomPairsReport(0, 0, 0, 0, 0, 0, 0.0, None)
    sources = {str(line["source_run_id"]) for line in pivotal_lines}
    if len(sources) != 1:
        raise HarnessError(f"pivotal pairs from {len(sources)} runs: cut random pairs from one run's samples at a time")
    (source,) = sources
    targets: list[SampleKey] = [(str(line["item_id"]), int(line["sample"])) for line in pivotal_lines]
    wanted_keys = set(targets) | {(str(i), int(n)) for i, n in samples}
    rows = {(str(r["item_id"]), int(r["sample"])): r for r in store.run_samples(source, task.name)
            if (str(r["item_id"]), int(r["sample"])) in wanted_keys}
    missing = sorted(wanted_keys - set(rows))
    if missing:
        raise HarnessError(f"run {source} holds no sample {missing[0][1]} of item {missing[0][0]}")
    cut = {k: tuple(pieces(r["text"])) for k, r in rows.items()}
    excluded: dict[SampleKey, set[int]] = {k: set() for k in cut}
    for k, positions in (pivotal_positions or {}).items():
        if k in excluded:
            excluded[k] |= set(positions)
    for line in pivotal_lines:
        excluded[(str(line["item_id"]), int(line["sample"]))].add(int(line["position"]))
    rng = random.Random(int(stable_hash(["random-position", seed, source, task.name], 12), 16))
    fmt = spec.thinking_format()
    grader = task.grader()
    t0 = time.perf_counter()

    def grade(batch: Sequence[tuple[Item, Sequence[Completion]]]) -> list[list[Any]]:
        return grade_answers(grader, batch, fmt).grades

    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    tried = 0
    try:
        model = model_row(spec)
        with run_lifecycle(store, model, k=rollouts, sampling=params.to_json(), tasks=[task.name],
                           command=command) as run_id:
            bases: dict[Hashable, tuple[Item, Prompt]] = {}
            item_key: dict[SampleKey, Hashable] = {}
            for k in cut:
                variants = _variants(task, items[k[0]])
                item_key[k] = (k[0], k[1] % len(variants))
                bases[item_key[k]] = (items[k[0]], variants[k[1] % len(variants)])
            est = Rollouts(store, run_id, model.model_id, params, rollouts, bases, grade,
                           lambda text: (pieces(text[:200]) or (None,))[0], get_backend, progress)
            todo = list(targets)
            while todo:
                plan = plan_positions(todo, {k: len(v) for k, v in cut.items()}, excluded, rng)
                if not plan:
                    break
                tried += len(plan)
                need = set()
                for k, pos in plan:
                    need.add((item_key[k], "".join(cut[k][:pos])))
                    if pos + 1 < len(cut[k]):
                        need.add((item_key[k], "".join(cut[k][:pos + 1])))
                got = est(sorted(need, key=repr))
                left = []
                for t, (k, pos) in zip(todo, plan):
                    prefix = "".join(cut[k][:pos])
                    before = got[(item_key[k], prefix)]
                    after = (Estimate(0, int(rows[k]["verdict"] == "correct")) if pos + 1 == len(cut[k])
                             else got[(item_key[k], prefix + cut[k][pos])])
                    nxt = est.next_tokens.get((item_key[k], prefix), [])
                    pair, rule = pair_of(cut[k][pos], before.p, after.p, nxt), "pair_of"
                    if pair is None or pair.chosen == pair.rejected:
                        pair, rule = other_token_pair(cut[k][pos], after.p, nxt, rng), "most_rollouts"
                    if pair is None or pair.chosen == pair.rejected:
                        left.append(t)
                        continue
                    row = pair_row(bases[item_key[k]][1], prefix, pair, chat)
                    same = repr([row["prompt"], row["chosen"], row["rejected"]])
                    if same in seen:  # samples that share a prefix share its pairs
                        left.append(t)
                        continue
                    seen.add(same)
                    row.update({"model": spec.name, "task": task.name, "item_id": k[0], "sample": k[1], "position": pos,
                                "prefix": prefix, "token": cut[k][pos], "p_before": before.p, "p_after": after.p,
                                "chosen_p": pair.chosen_p, "rejected_p": pair.rejected_p, "n": before.n,
                                "alternative_n": pair.alternative_n, "source_run_id": source, "cut": "random", "rule": rule,
                                "seed": seed, "rollout_run_id": run_id})
                    out.append(row)
                todo = left
    finally:
        grader.close()
    report = RandomPairsReport(len(out), len(targets), tried, est.requested, est.generated, est.tokens,
                               round(time.perf_counter() - t0, 2), run_id,
                               sum(1 for r in out if r["rule"] == "pair_of"))
    return out, report
