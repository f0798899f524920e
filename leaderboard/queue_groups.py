"""What the training queue has in common: each queued item's own traits (a template, MATH's subject
and level, a word problem's number of steps) and its prompt, so the queue page can say *what* to train
on next, not only how much. Pure pandas over the `train_queue` query; no Streamlit here."""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

# Item traits worth grouping by, in the order offered: the task's own meta where it has them.
TRAITS = ("template", "subject", "level", "steps", "year")
_CALC = re.compile(r"<<[^>]*>>")  # a GSM8K-style solution marks each calculation step <<a*b=c>>


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def traits(meta: Any, fields: Any) -> dict[str, Any]:
    """An item's groupable traits: its meta's TRAITS, and for a worked solution with calculator
    marks (GSM8K) the number of steps, counted from the marks, where the meta has none."""
    m, f = _json(meta), _json(fields)
    out = {t: m[t] for t in TRAITS if m.get(t) is not None}
    answer = f.get("answer")
    if "steps" not in out and isinstance(answer, str) and _CALC.search(answer):
        out["steps"] = len(_CALC.findall(answer))
    return out


def prompt_text(prompt: Any) -> str:
    """The prompt as the model's user turn read it (the last user message, else the plain text)."""
    p = _json(prompt)
    users = [m.get("content") for m in p.get("messages") or () if isinstance(m, dict) and m.get("role") == "user"]
    text = users[-1] if users and isinstance(users[-1], str) else p.get("text")
    return text if isinstance(text, str) else ""


def with_traits(queue: pd.DataFrame) -> pd.DataFrame:
    """Queue rows with one column per trait any of them has (in TRAITS order) and a `prompt` column."""
    if queue.empty:
        return queue.assign(prompt=pd.Series(dtype=str))
    found = [traits(m, f) for m, f in zip(queue.get("item_meta", [None] * len(queue)),
                                          queue.get("item_fields", [None] * len(queue)))]
    names = [t for t in TRAITS if any(t in x for x in found)]
    out = queue.assign(**{t: [x.get(t) for x in found] for t in names})
    prompts = [prompt_text(p) for p in queue.get("prompt", [None] * len(queue))]
    fields = [_json(f) for f in queue.get("item_fields", [None] * len(queue))]
    return out.assign(prompt=[p if p and not p.startswith(UNRECORDED) else _question(f) or p
                              for p, f in zip(prompts, fields)])


UNRECORDED = "<prompt not recorded"  # what ingest stores for a line that gave no prompt


def _question(fields: dict[str, Any]) -> str:
    """The item's own question, where a task keeps one (the prompt of ingested lines is not recorded)."""
    for key in ("question", "problem", "prompt"):
        if isinstance(fields.get(key), str):
            return fields[key]
    return ""


def trait_names(queue: pd.DataFrame) -> list[str]:
    """The traits present in `with_traits` rows, in TRAITS order."""
    return [t for t in TRAITS if t in queue.columns]


def groups(queue: pd.DataFrame, trait: str) -> pd.DataFrame:
    """`with_traits` rows per value of `trait`: queued items, pending (not exported yet), the model's mean
    pass rate on them and their share of the queue; the most pending first."""
    cols = [trait, "queued", "pending", "mean_pass_rate", "share"]
    q = queue[queue[trait].notna()] if trait in queue.columns else queue.iloc[0:0]
    if q.empty:
        return pd.DataFrame(columns=cols)
    q = q.assign(pending=q["exported_at"].isna(), key=q[trait].astype(str))
    out = q.groupby("key", sort=False).agg(value=(trait, "first"), queued=("item_id", "size"),
                                            pending=("pending", "sum"), mean_pass_rate=("pass_rate", "mean"))
    out["pending"] = out["pending"].astype(int)
    out["share"] = out["queued"] / len(queue)
    out = out.rename(columns={"value": trait}).reset_index(drop=True)
    return out.sort_values(["pending", "queued", trait], ascending=[False, False, True],
                           key=lambda s: s.astype(str) if s.name == trait else s)[cols].reset_index(drop=True)
