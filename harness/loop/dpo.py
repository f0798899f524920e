"""The loop's DPO arms (`[dpo]` in the config): per phase and seed, DPO on top of the `teachable` arm's
fine-tuned model, against SFT alone (the `teachable` arm itself) on the same test pool.

- `teachable+pivotal-dpo`: pairs at the pivotal tokens (`harness pivotal`, then `export-dpo`'s rule) of
  the teachable arm's start model's samples of the items that arm picked, in its **selection-pool
  run** (named explicitly: the model's latest run may be a test-pool run, which must never be
  searched);
- `teachable+random-dpo`: as many pairs, cut at random non-pivotal positions of the same samples (then
  of the other samples the search searched), by the same rollouts and, where it finds a token on the
  other side, the same pairing rule (`harness.analysis.random_pairs`): the control differs only in
  where the pair is cut. Where the samples hold fewer positions that make a pair than there are
  pivotal pairs (on the demo models most positions are forced: every rollout begins with the sample's
  own token), the pivotal arm trains on a seeded draw of as many of its pairs (`matched`), so both
  arms always train on the same number of pairs; the search's record says how many were available.
Both are trained with the same DPO recipe and seed, and measured like every arm (`engine._measure_phase`),
plus each against SFT alone and against each other, per seed and pooled (`measure`).

Cached like the rest of the loop: the search (a sidecar names the stored search for its inputs), the
random pairs (a sidecar holds the key of their inputs) and each DPO model (`dpo.json` holds its base,
pairs digest and recipe): a rerun searches, samples and trains nothing.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from harness.errors import HarnessError
from harness.items_io import write_atomic
from harness.loop.arms import Arm, item_order
from harness.loop.measure import pooled, per_seed
from harness.records import stable_hash

if TYPE_CHECKING:
    from harness.loop.pools import Pools

PIVOTAL, RANDOM = "teachable+pivotal-dpo", "teachable+random-dpo"
ARM_OF = {"pivotal": PIVOTAL, "random-position": RANDOM}


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=1, ensure_ascii=False))


class _LazyBackend:
    """The start model's backend, made at the first rollout that is not stored (a rerun makes none)."""

    def __init__(self, spec: Any):
        self.spec = spec
        self.backend: Any = None

    def get(self) -> Any:
        if self.backend is None:
            from harness.backends import make_backend

            self.backend = make_backend(self.spec)
        return self.backend

    def logprobs(self, prompt: Any, pieces: Sequence[str]) -> Sequence[float] | None:
        score = getattr(self.get(), "token_logprobs", None)  # hf: the model scores its own tokens
        return None if score is None else score(prompt, pieces)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()


def dpo_once(base: Path, pairs: Path, dest: Path, config: Any, progress: bool) -> dict[str, Any]:
    """`harness dpo` of `base` on `pairs` into `dest`, unless `dest` already holds this base, these
    pairs and this recipe (then its recorded info, marked reused)."""
    from harness.training.dpo import train_dpo
    from harness.training.recipe import sha256

    info_path = dest / "dpo.json"
    if info_path.is_file():
        info = json.loads(info_path.read_text())
        if (info.get("base") == str(base) and info.get("pairs_sha256") == sha256(pairs)
                and info.get("config") == asdict(config)):
            return {**info, "seconds": 0.0, "reused": True}
    return train_dpo(base, pairs, dest, config, progress=progress)


def matched(lines: Sequence[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """`n` of the pivotal pairs (a seeded draw, in their order) when the random-position control could
    make only `n`: both arms then train on as many pairs. All of them when n >= their number."""
    if n >= len(lines):
        return list(lines)
    keep = set(random.Random(int(stable_hash(["matched", seed], 12), 16)).sample(range(len(lines)), n))
    return [line for j, line in enumerate(lines) if j in keep]


def dpo_arms(loop: Any, i: int, pool: "Pools", arms: Sequence["Arm"], selection: Mapping[str, Any],
             out: Path) -> tuple[list["Arm"], dict[str, Any]]:
    """The DPO arms of phase `i` (their models trained or reused) and what making their pairs cost.
    `loop`: the engine's running `Loop` (typed loosely: the engine imports this module)."""
    from harness.analysis.pivotal_run import PivotalConfig, find_pivotal
    from harness.analysis.preference import preference_lines, write_lines
    from harness.analysis.random_pairs import random_position_pairs
    from harness.backends.tokens import token_splitter
    from harness.pipeline.runner import resolve_sampling
    from harness.training.dpo import DpoConfig

    cfg, store, say = loop.cfg, loop.store, loop.say
    d = cfg.dpo
    assert d is not None
    task = pool.selection_task
    by_id = {it.id: it for it in pool.selection}
    folder = out / f"phase{i}"
    teach = sorted((a for a in arms if a.arm == "teachable"), key=lambda a: a.seed)
    groups: dict[str, list[Arm]] = {}
    for a in teach:
        groups.setdefault(a.start.name, []).append(a)
    pconf = PivotalConfig(rollouts=d.rollouts, p_gap=d.p_gap, band=d.band, samples=d.samples,
                          max_rollouts=d.max_rollouts)
    plans: list[tuple[Arm, str, Path]] = []
    searches: list[dict[str, Any]] = []
    for start_name, group in groups.items():
        start = group[0].start
        run_id = selection["runs"][start_name]  # the selection-pool run: never a test-pool run
        picked = {a.seed: {str(r["item_id"]) for r in _read_jsonl(a.export)} for a in group}
        union = sorted(set().union(*picked.values()), key=item_order)
        outside = [x for x in union if x not in by_id]
        if outside:
            raise HarnessError(f"phase {i}: item {outside[0]} of the teachable export is not in the selection pool")
        splitter = token_splitter(start)
        chat = bool(getattr(splitter.tok, "chat_template", None))
        params = resolve_sampling(start, task, {})
        lazy = _LazyBackend(start)
        get_backend, logprobs = lazy.get, lazy.logprobs
        try:
            key = stable_hash([start.fingerprint(), run_id, task.name, union, asdict(pconf), params.key()], 16)
            side = folder / f"pivotal-{start_name}.json"
            known = json.loads(side.read_text()) if side.is_file() else {}
            sid = known.get("search_id") if known.get("key") == key else None
            if sid is not None and not any(s["search_id"] == sid for s in store.pivotal_searches(start.name)):
                sid = None
            if sid is None:
                say(f"phase {i}: pivotal token search on {start.name}'s samples of {len(union)} teachable items "
                    f"(selection-pool run {run_id}; N={d.rollouts}, p_gap {d.p_gap}, band {list(d.band)})")
                report = find_pivotal(store, start, task, [by_id[x] for x in union], splitter.pieces, get_backend,
                                      params, pconf, command="harness loop", logprobs=logprobs, source_run=run_id)
                sid = report.search.search_id
                cost = {k: v for k, v in report.to_json().items() if k != "tokens"}
                _write_json(side, {"key": key, "search_id": sid, "search": cost})
                reused = False
            else:
                cost = known["search"]
                reused = True
            lines, exp = preference_lines(store, start.name, chat=chat, search_id=sid)
            if any(line["source_run_id"] != run_id for line in lines):
                raise HarnessError(f"phase {i}: pivotal pairs from a run other than the selection-pool run {run_id}")
            searched = {(str(r["item_id"]), int(r["sample"])) for r in store.pivotal_prefixes(sid)}
            all_pivots: dict[tuple[str, int], set[int]] = {}
            for t in store.pivotal_tokens(search_id=sid):
                all_pivots.setdefault((str(t["item_id"]), int(t["sample"])), set()).add(int(t["position"]))
            searches.append({"start": start.name, "source_run_id": run_id, "search_id": sid, "reused": reused,
                             "items": len(union), "pivotal_tokens": exp.pivotal, "pairs": exp.pairs,
                             "no_alternative": exp.no_alternative, "duplicates": exp.duplicates, **cost})
            for a in group:
                mine = [line for line in lines if str(line["item_id"]) in picked[a.seed]]
                if not mine:
                    raise HarnessError(f"phase {i}: no pivotal pair on the teachable items of seed {a.seed} "
                                       f"({exp.pivotal} pivotal tokens in all): raise [dpo] rollouts or widen its band")
                n_pivotal = len(mine)
                if "random-position" in d.arms:
                    path = folder / f"{RANDOM}-s{a.seed}.jsonl"
                    others = sorted(k for k in searched if k[0] in picked[a.seed])
                    rkey = stable_hash(["v2", mine, a.seed, d.rollouts, params.key(), others, sorted(
                        (k, sorted(v)) for k, v in all_pivots.items())], 16)
                    rside = path.with_name(path.name + ".json")
                    rknown = json.loads(rside.read_text()) if rside.is_file() and path.is_file() else {}
                    if rknown.get("key") != rkey:
                        say(f"phase {i}: {len(mine)} pairs at random positions of the same samples (seed {a.seed})")
                        rlines, rrep = random_position_pairs(
                            store, start, task, by_id, mine, splitter.pieces, get_backend, params, d.rollouts,
                            seed=a.seed, chat=chat, pivotal_positions=all_pivots, samples=others,
                            command="harness loop")
                        if not rlines:
                            raise HarnessError(f"phase {i}: no pair at any random position of the searched samples")
                        write_lines(rlines, path)
                        _write_json(rside, {"key": rkey, "report": rrep.to_json()})
                        rknown = {"report": rrep.to_json()}
                    searches[-1].setdefault("random", {})[str(a.seed)] = rknown["report"]
                    mine = matched(mine, rknown["report"]["pairs"], a.seed)
                    control = (a, RANDOM, path)
                if "pivotal" in d.arms:
                    path = folder / f"{PIVOTAL}-s{a.seed}.jsonl"
                    write_lines(mine, path)
                    plans.append((a, PIVOTAL, path))
                    searches[-1].setdefault("pivotal_used", {})[str(a.seed)] = {"pairs": len(mine),
                                                                                 "available": n_pivotal}
                if "random-position" in d.arms:
                    plans.append(control)
        finally:
            lazy.close()
    say(f"phase {i}: DPO on top of the teachable models: {len(plans)} models ({d.steps} steps each)")
    out_arms = []
    for a, name, path in plans:
        dest = out / "models" / loop.model_name(i, name, a.seed)
        config = DpoConfig(max_steps=d.steps, learning_rate=d.learning_rate, batch_size=d.batch_size, beta=d.beta,
                           lora_r=d.lora_r, bf16=cfg.recipe.bf16, seed=a.seed)
        info = dpo_once(Path(a.spec.model), path, dest, config, loop.progress)
        rows = _read_jsonl(path)
        spec = replace(loop.student, name=dest.name, model=str(dest), finetuned_from=a.spec.name)
        out_arms.append(Arm(i, name, a.seed, spec, a.spec, path, path, len({r["item_id"] for r in rows}),
                            {"pivotal" if name == PIVOTAL else "random-position": len(rows)}, len(rows), info))
    return out_arms, {"searches": searches,
                      "recipe": {"steps": d.steps, "learning_rate": d.learning_rate, "batch_size": d.batch_size,
                                 "beta": d.beta, "lora_r": d.lora_r}}


def dpo_versus(per: Mapping[str, Mapping[int, Sequence[float]]]) -> dict[str, Any]:
    """Each DPO arm against SFT alone (`teachable`) and the pivotal arm against the random one, on the
    same items and seeds: pooled over seeds (with each seed's own comparison beside it)."""
    out = {}
    for a, b in ((PIVOTAL, "teachable"), (RANDOM, "teachable"), (PIVOTAL, RANDOM)):
        if a not in per or b not in per:
            continue
        seeds = sorted(set(per[a]) & set(per[b]))
        g = pooled({s: per[a][s] for s in seeds}, {s: per[b][s] for s in seeds})
        out[f"{a} vs {b}"] = {"a": a, "b": b, **g.to_json(), "per_seed": [
            {"seed": s, **per_seed(per[a][s], per[b][s], seed=s).to_json()} for s in seeds]}
    return out
