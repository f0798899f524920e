"""Pivotal token search on a model's stored samples, with real rollouts and the task's real grader.

    the model's latest run of the task -> its samples of the chosen items (wrong ones first)
    -> p(prompt) from N rollouts; items outside the band are left out
    -> Subdivide along each sample (`harness.analysis.pivotal.search`), every prefix cut at the
       model's token boundaries, every rollout made and stored by `pipeline.generate.complete`
       (key: model, prompt + prefix, sampling, sample index), so a rerun generates nothing and a
       crash loses one batch
    -> the store: the search and its cost, p along each sample, the pivotal tokens.

A rollout prompt is the item's prompt with the sample's text so far as the start of the answer (the
prompt is never part of the prefix, so it is never sent twice); its continuation is graded as
prefix + continuation by the task's grader, checked first against the verdicts already stored, so a
grader that calls everything correct is caught before it makes a single pair.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Hashable, Mapping, Sequence, cast

from harness.analysis.pivotal import Budget, Estimate, Sample, SearchResult, delta_interval, search
from harness.errors import HarnessError
from harness.models import ModelSpec
from harness.pipeline.answers import grade_answers
from harness.pipeline.generate import complete
from harness.pipeline.lifecycle import model_row, run_lifecycle
from harness.records import Completion, Item, Message, Prompt, Sampling
from harness.store import PivotalPrefixRow, PivotalSearchRow, PivotalTokenRow, Store, now
from harness.task import Task

Progress = Callable[[int], Callable[[int], None]]


@dataclass(frozen=True, slots=True)
class PivotalConfig:
    rollouts: int = 16  # N: continuations per prefix
    p_gap: float = 0.2
    band: tuple[float, float] = (0.2, 0.8)  # p(prompt) of the items searched
    samples: int = 2  # samples searched per item (its wrong ones first)
    max_rollouts: int | None = None  # budget: rollouts the estimates may use, cached or new
    recheck_seed: int | None = None  # re-estimate each pivotal token's delta with fresh rollouts


@dataclass(frozen=True)
class PivotalReport:
    search: PivotalSearchRow
    tokens: tuple[PivotalTokenRow, ...]

    @property
    def rollouts_per_pivotal(self) -> float | None:
        return None if not self.tokens else self.search.rollouts / len(self.tokens)

    def to_json(self) -> dict[str, Any]:
        s = self.search
        return {
            "search_id": s.search_id, "model": s.model_name, "task": s.task, "source_run_id": s.source_run_id,
            "params": json.loads(s.params), "items": s.n_items, "in_band": s.n_in_band, "samples": s.n_samples,
            "pivotal": s.n_pivotal, "rollouts": s.rollouts, "generated": s.generated,
            "tokens_generated": s.tokens_generated, "seconds": s.seconds, "budget_hit": s.budget_hit,
            "rollouts_per_pivotal": self.rollouts_per_pivotal,
            "recheck": None if s.recheck_n is None else {"seed": s.recheck_seed, "agree": s.recheck_agree,
                                                         "n": s.recheck_n},
            "tokens": [{"item_id": t.item_id, "sample": t.sample, "position": t.position, "token": t.token,
                        "p_before": t.p_before, "p_after": t.p_after, "delta": t.delta,
                        "delta_interval": [t.delta_low, t.delta_high], "recheck_delta": t.recheck_delta}
                       for t in self.tokens],
        }


def with_prefix(prompt: Prompt, prefix: str) -> Prompt:
    """`prompt` with `prefix` as the start of the model's answer: appended to the plain text, and a
    final assistant turn (which the backends continue) after a chat prompt's turns. The empty
    prefix is the prompt itself, so its rollouts are the run's own samples where the sampling is
    the same."""
    if not prefix:
        return prompt
    msgs = None if prompt.messages is None else (*prompt.messages, Message("assistant", prefix))
    return Prompt(text=prompt.text + prefix, messages=msgs)


def _variants(task: Task, item: Item) -> tuple[Prompt, ...]:
    rendered = task.render(item)
    return (rendered,) if isinstance(rendered, Prompt) else tuple(rendered)


class Rollouts:
    """The estimator: p(prefix) from N rollouts per (item variant, prefix), each made (or found in the
    store) by `complete` and graded as prefix + continuation. Memoized; counts its cost; keeps the
    first token of every rollout for the preference pairs."""

    def __init__(self, store: Store, run_id: str, model_id: str, params: Sampling, n: int,
                 items: Mapping[Hashable, tuple[Item, Prompt]], grade: Callable[[Sequence[tuple[Item, Sequence[Completion]]]], list[list[Any]]],
                 first_token: Callable[[str], str | None], get_backend: Callable[[], Any],
                 progress: Progress | None = None, max_rollouts: int | None = None):
        self.store, self.run_id, self.model_id, self.params, self.n = store, run_id, model_id, params, n
        self.items, self.grade, self.first_token, self.get_backend = items, grade, first_token, get_backend
        self.progress, self.max_rollouts = progress, max_rollouts
        self.memo: dict[tuple[Hashable, str], Estimate] = {}
        self.next_tokens: dict[tuple[Hashable, str], list[tuple[str, int, int]]] = {}
        self.requested = self.generated = self.tokens = 0

    def __call__(self, points: Sequence[tuple[Hashable, str]]) -> dict[tuple[Hashable, str], Estimate]:
        new = sorted({p for p in points if p not in self.memo}, key=repr)
        if new:
            if self.max_rollouts is not None and self.requested + len(new) * self.n > self.max_rollouts:
                raise Budget()
            self._estimate(new)
        return {p: self.memo[p] for p in points}

    def _estimate(self, points: list[tuple[Hashable, str]]) -> None:
        prompts = [with_prefix(self.items[key][1], prefix) for key, prefix in points]
        wanted = [(p, i) for p in prompts for i in range(self.n)]
        skey = self.params.key()
        stored = set(self.store.cached(self.model_id, skey, [p.hash for p in prompts], self.n))
        have, made = complete(self.store, self.run_id, self.model_id, self.params, wanted, self.get_backend,
                              self.progress)
        self.requested += len(wanted)
        self.generated += made
        self.tokens += sum(have[(p.hash, i)].completion.tokens or 0 for p, i in wanted if (p.hash, i) not in stored)
        batch = []
        for (key, prefix), p in zip(points, prompts):
            comps = [have[(p.hash, i)].completion for i in range(self.n)]
            batch.append((self.items[key][0], [replace(c, text=prefix + c.text) for c in comps]))
        grades = self.grade(batch)
        for (key, prefix), p, gs in zip(points, prompts, grades):
            right = [g.verdict == "correct" for g in gs]
            self.memo[(key, prefix)] = Estimate(self.n, sum(right))
            firsts: dict[str, list[int]] = {}
            for i, ok in enumerate(right):
                tok = self.first_token(have[(p.hash, i)].completion.text)
                if tok is not None:
                    firsts.setdefault(tok, [0, 0])
                    firsts[tok][0] += 1
                    firsts[tok][1] += ok
            self.next_tokens[(key, prefix)] = sorted(((t, m, c) for t, (m, c) in firsts.items()),
                                                     key=lambda x: (-x[1], x[0]))


def check_grader(grade: Callable[[Sequence[tuple[Item, Sequence[Completion]]]], list[list[Any]]],
                 cases: Sequence[tuple[Item, Sequence[tuple[Completion, str]]]]) -> None:
    """The oracle must be real: graded again, the stored samples keep their verdicts (correct or
    not), and an empty answer is never correct."""
    if not cases:
        return
    graded = grade([(item, [c for c, _ in samples] + [Completion("", "stop")]) for item, samples in cases])
    for (item, samples), gs in zip(cases, graded):
        if gs[-1].verdict == "correct":
            raise HarnessError(f"the grader calls an empty answer to item {item.id} correct: it is no oracle, "
                               "and pairs made with it would have no real positive token")
        for (_comp, verdict), g in zip(samples, gs):
            if (g.verdict == "correct") != (verdict == "correct"):
                raise HarnessError(f"the grader now calls a stored sample of item {item.id} {g.verdict} where the "
                                   f"run said {verdict}: rescore the run (harness score) before searching it")


def choose_samples(rows: Sequence[Mapping[str, Any]], per_item: int) -> list[Mapping[str, Any]]:
    """Up to `per_item` stored samples of each item with distinct texts: its wrong ones first, then
    right ones, by index (a sample that repeats an earlier one's text would repeat its tokens)."""
    by_item: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_item.setdefault(str(r["item_id"]), []).append(r)
    out = []
    for item_id in by_item:
        seen: set[str] = set()
        for r in sorted(by_item[item_id], key=lambda r: (r["verdict"] == "correct", r["sample"])):
            if r["text"] and r["text"] not in seen and len(seen) < per_item:
                seen.add(r["text"])
                out.append(r)
    return out


def find_pivotal(store: Store, spec: ModelSpec, task: Task, items: Sequence[Item], pieces: Callable[[str], Sequence[str]],
                 get_backend: Callable[[], Any], params: Sampling, config: PivotalConfig = PivotalConfig(), *,
                 command: str | None = None, progress: Progress | None = None,
                 on_round: Callable[[int, int], None] | None = None,
                 logprobs: Callable[[Prompt, Sequence[str]], Sequence[float] | None] | None = None,
                 source_run: str | None = None) -> PivotalReport:
    """Search `items` (their samples in the model's latest run of `task`) for pivotal tokens; store
    and return what was found, with the cost. `logprobs(prompt, pieces)`: each token's log-probability
    under the model, where it can say (Subdivide then splits at the middle of the log-probability
    mass; else at the middle token). `source_run`: the run whose samples are searched (default: the
    model's latest finished run of the task)."""
    if config.rollouts < 1:
        raise HarnessError(f"--rollouts must be at least 1, got {config.rollouts}")
    lo, hi = config.band
    if not 0 <= lo <= hi <= 1:
        raise HarnessError(f"--band must be two probabilities LOW,HIGH with LOW <= HIGH, got {lo},{hi}")
    if not 0 < config.p_gap <= 1:
        raise HarnessError(f"--p-gap must be in (0, 1], got {config.p_gap}")
    source = source_run or store.latest_run(spec.name, task.name)
    if source_run is not None and not any(r["run_id"] == source_run and r["status"] == "done"
                                          for r in store.runs(model=spec.name, task=task.name)):
        raise HarnessError(f"run {source_run} is no finished run of {spec.name} on {task.name} in {store.path}")
    if source is None:
        raise HarnessError(f"{spec.name} has no finished run of {task.name} in {store.path}: "
                           f"run `harness run --model {spec.name} --task {task.name}` first")
    by_id = {it.id: it for it in items}
    rows = [r for r in store.run_samples(source, task.name) if str(r["item_id"]) in by_id]
    chosen = choose_samples(rows, config.samples)
    fmt = spec.thinking_format()
    grader = task.grader()
    t0 = time.perf_counter()

    def grade(batch: Sequence[tuple[Item, Sequence[Completion]]]) -> list[list[Any]]:
        return grade_answers(grader, batch, fmt).grades

    try:
        check_grader(grade, [(by_id[str(item_id)], [(Completion(r["text"], r["finish"], thinking=r["thinking"]), r["verdict"])
                                                     for r in rows if str(r["item_id"]) == item_id])
                             for item_id in sorted({str(r["item_id"]) for r in chosen})])
        model = model_row(spec)
        with run_lifecycle(store, model, k=config.rollouts, sampling=params.to_json(), tasks=[task.name],
                           command=command) as run_id:
            bases: dict[Hashable, tuple[Item, Prompt]] = {}
            samples: list[Sample] = []
            for r in chosen:
                item = by_id[str(r["item_id"])]
                variants = _variants(task, item)
                key = (item.id, int(r["sample"]) % len(variants))
                bases[key] = (item, variants[key[1]])
                samples.append(Sample((item.id, int(r["sample"])), key, tuple(pieces(r["text"])),
                                      r["verdict"] == "correct"))
            est = Rollouts(store, run_id, model.model_id, params, config.rollouts, bases, grade,
                           lambda text: (pieces(text[:200]) or (None,))[0], get_backend, progress,
                           config.max_rollouts)
            budget_hit = False
            try:
                start = est(sorted({(s.item, "") for s in samples}, key=repr))
            except Budget:
                start, budget_hit = {}, True
            in_band = [s for s in samples if (s.item, "") in start and lo <= start[(s.item, "")].p <= hi]
            split = "count"
            if logprobs is not None and in_band:
                scored = [logprobs(bases[s.item][1], s.pieces) for s in in_band]
                if all(x is not None for x in scored):
                    in_band = [replace(s, logprobs=tuple(x)) for s, x in zip(in_band, scored) if x is not None]
                    split = "logprob"
            result = search(in_band, est, config.p_gap, on_round) if not budget_hit else SearchResult((), {}, True)
            budget_hit = budget_hit or result.budget_hit
            search_id = run_id
            tokens = [_token_row(search_id, task.name, p, samples) for p in result.pivots]
            prefixes = _prefix_rows(search_id, task.name, result, in_band, est)
            row = PivotalSearchRow(
                search_id=search_id, model_name=spec.name, model_id=model.model_id, task=task.name,
                source_run_id=source,
                params=json.dumps({"rollouts": config.rollouts, "p_gap": config.p_gap, "band": [lo, hi],
                                   "samples": config.samples, "max_rollouts": config.max_rollouts, "split": split,
                                   "sampling": params.to_json(), "sampling_key": params.key()}),
                n_items=len({str(r["item_id"]) for r in chosen}), n_in_band=len({s.item for s in in_band}),
                n_samples=len(in_band), n_pivotal=len(tokens), rollouts=est.requested, generated=est.generated,
                tokens_generated=est.tokens, seconds=round(time.perf_counter() - t0, 2), budget_hit=budget_hit,
                finished_at=now())
            store.put_pivotal(row, prefixes, tokens)
            if config.recheck_seed is not None and tokens:
                row = recheck(store, row, tokens, samples, bases, replace(params, seed=config.recheck_seed),
                              config.rollouts, grade, get_backend, progress)
                tokens = [t for t in _stored_tokens(store, search_id)]
    finally:
        grader.close()
    return PivotalReport(row, tuple(tokens))


def _stored_tokens(store: Store, search_id: str) -> list[PivotalTokenRow]:
    names = PivotalTokenRow.__dataclass_fields__
    return [PivotalTokenRow(**{k: v for k, v in r.items() if k in names}) for r in store.pivotal_tokens(search_id=search_id)]


def _token_row(search_id: str, task: str, p: Any, samples: Sequence[Sample]) -> PivotalTokenRow:
    item_id, sample = p.key
    s = next(s for s in samples if s.key == p.key)
    low, high = delta_interval(p.before, p.after)
    return PivotalTokenRow(search_id=search_id, task=task, item_id=item_id, sample=sample, position=p.position,
                           token=p.token, prefix=s.prefix(p.position), p_before=p.before.p, p_after=p.after.p,
                           n_before=p.before.n, n_after=p.after.n, delta=p.delta, delta_low=low, delta_high=high)


def _prefix_rows(search_id: str, task: str, result: SearchResult, samples: Sequence[Sample],
                 est: Rollouts) -> list[PivotalPrefixRow]:
    by_key = {s.key: s for s in samples}
    out = []
    for (key, pos), e in sorted(result.curve.items(), key=lambda kv: (repr(kv[0][0]), kv[0][1])):
        s = by_key[key]
        item_id, sample = cast(tuple[str, int], key)
        prefix = s.prefix(pos)
        nxt = est.next_tokens.get((s.item, prefix)) if e.n else None
        out.append(PivotalPrefixRow(search_id=search_id, task=task, item_id=item_id, sample=sample, position=pos,
                                    prefix=prefix, n=e.n, n_correct=e.correct, p=e.p,
                                    next_tokens=None if nxt is None else json.dumps(nxt, ensure_ascii=False)))
    return out


def recheck(store: Store, row: PivotalSearchRow, tokens: Sequence[PivotalTokenRow], samples: Sequence[Sample],
            bases: Mapping[Hashable, tuple[Item, Prompt]], params: Sampling, n: int,
            grade: Callable[..., list[list[Any]]], get_backend: Callable[[], Any],
            progress: Progress | None = None) -> PivotalSearchRow:
    """Each pivotal token's delta again, from N fresh rollouts under `params` (another seed) before
    and after it (the sample's own verdict stays p at its end); stored beside the first estimate."""
    est = Rollouts(store, row.search_id, row.model_id, params, n, bases, grade, lambda t: None, get_backend, progress)
    by_key = {s.key: s for s in samples}
    points = {}
    for t in tokens:
        s = by_key[(t.item_id, t.sample)]
        points[t] = [(s.item, s.prefix(t.position)),
                     None if t.position + 1 == len(s.pieces) else (s.item, s.prefix(t.position + 1))]
    got = est([p for ps in points.values() for p in ps if p is not None])
    deltas = {}
    for t, (before, after) in points.items():
        s = by_key[(t.item_id, t.sample)]
        assert before is not None  # a token's own prefix always exists
        p_after = float(s.verdict_correct) if after is None else got[after].p
        deltas[(t.task, t.item_id, t.sample, t.position)] = p_after - got[before].p
    store.set_pivotal_recheck(row.search_id, params.seed, deltas)
    agree = sum(1 for t in tokens if (d := deltas[(t.task, t.item_id, t.sample, t.position)]) != 0
                and (d > 0) == (t.delta > 0))
    return replace(row, recheck_seed=params.seed, recheck_agree=agree, recheck_n=len(tokens),
                   rollouts=row.rollouts, generated=row.generated)
