"""Preference pairs from pivotal tokens, in TRL's preference format (`harness export-dpo`).

At a pivotal token the prompt is the item's prompt plus the sample's text before the token; chosen is
the token that raises p(correct), rejected one that lowers it. One of them is the sample's own token;
the other is the first token of rollouts already sampled from the same prefix for the estimate (never
a separate probe), the one most rollouts began with among those whose share of correct continuations
lies on the other side of p before the token (`harness.analysis.pivotal.pair_of`).

A plain-prompt model gets plain text (`prompt` the prompt's text plus the prefix, `chosen`/`rejected`
the tokens). A chat model gets conversational turns: `prompt` the item's turns, `chosen`/`rejected`
one assistant turn each, the prefix followed by the token; `prefix` in the line says where the shared
part ends (`harness dpo` puts it on the prompt's side; in DPO's log-ratio it cancels anyway). Every
line carries its lineage: model, task, item, sample, position, the p values and N.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from harness.analysis.pivotal import Pair, pair_of
from harness.errors import HarnessError
from harness.items_io import write_atomic
from harness.records import Prompt
from harness.store import Store


@dataclass(frozen=True)
class ExportReport:
    pairs: int
    pivotal: int  # pivotal tokens considered
    no_alternative: int  # of them, no rollout from the prefix began with a token on the other side
    duplicates: int  # of them, the same pair as one before (another sample with the same prefix)
    searches: tuple[str, ...]


def preference_lines(store: Store, model_name: str, *, chat: bool, search_id: str | None = None,
                     task: str | None = None) -> tuple[list[dict[str, Any]], ExportReport]:
    """The pairs of `model_name`'s pivotal tokens (of one search, one task when given; by default
    each task's newest search)."""
    if search_id is None:
        newest: dict[str, str] = {}
        for s in store.pivotal_searches(model_name):  # newest first
            if task is None or s["task"] == task:
                newest.setdefault(s["task"], s["search_id"])
        searches = sorted(newest.values())
    else:
        searches = [search_id]
    tokens = [t for sid in searches for t in store.pivotal_tokens(search_id=sid, model_name=model_name, task=task)]
    lines, missing, seen, duplicates = [], 0, set(), 0
    prompts_cache: dict[str, dict[str, list[Any]]] = {}
    for t in tokens:
        prefixes = store.pivotal_prefixes(t["search_id"], t["task"], t["item_id"], t["sample"])
        at = next((p for p in prefixes if p["position"] == t["position"]), None)
        nxt = [tuple(x) for x in json.loads(at["next_tokens"])] if at and at["next_tokens"] else []
        pair = pair_of(t["token"], t["p_before"], t["p_after"], nxt)
        if pair is None or pair.chosen == pair.rejected:
            missing += 1
            continue
        task_prompts = prompts_cache.setdefault(t["task"], {})
        if t["item_id"] not in task_prompts:
            task_prompts.update(store.item_prompts(t["task"], [t["item_id"]]))
        variants = task_prompts.get(t["item_id"])
        if not variants:
            raise HarnessError(f"item {t['item_id']} of {t['task']} has no stored prompt")
        base = variants[t["sample"] % len(variants)]
        prefix = t["prefix"]
        row = pair_row(base, prefix, pair, chat)
        same = json.dumps([row["prompt"], row["chosen"], row["rejected"]])
        if same in seen:  # samples that share a prefix share its pivotal token: one pair
            duplicates += 1
            continue
        seen.add(same)
        row.update({
            "model": model_name, "task": t["task"], "item_id": t["item_id"], "sample": t["sample"],
            "position": t["position"], "prefix": prefix, "token": t["token"],
            "p_before": t["p_before"], "p_after": t["p_after"], "chosen_p": pair.chosen_p,
            "rejected_p": pair.rejected_p, "n": t["n_before"], "alternative_n": pair.alternative_n,
            "search_id": t["search_id"], "source_run_id": t["source_run_id"],
        })
        lines.append(row)
    return lines, ExportReport(len(lines), len(tokens), missing, duplicates, tuple(searches))


def pair_row(base: Prompt, prefix: str, pair: Pair, chat: bool) -> dict[str, Any]:
    """A pair in TRL's preference format: plain text, or chat turns where the model has a template."""
    if chat and base.messages is not None:
        return {"prompt": [{"role": m.role, "content": m.content} for m in base.messages],
                "chosen": [{"role": "assistant", "content": prefix + pair.chosen}],
                "rejected": [{"role": "assistant", "content": prefix + pair.rejected}]}
    return {"prompt": base.text + prefix, "chosen": pair.chosen, "rejected": pair.rejected}


def write_lines(lines: Sequence[dict[str, Any]], out: Path) -> None:
    write_atomic(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))
