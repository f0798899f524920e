"""The night's report, as markdown (for a person, a chat channel or an issue) and JSON (for tools).

Both say: the night, its phase label and harness version; each model's identity and what ran, was
reused or failed; the verdict per domain and per task with the deltas, the noise floor and the
items that flipped; links to the leaderboard's nightly, history and item pages.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from harness.analysis.nightly import Verdict

MAX_FLIPPED = 20  # items listed per verdict in markdown (JSON has them all)
MARK = {"regressed": "**REGRESSED**", "improved": "improved", "steady": "steady", "no_baseline": "no baseline"}


def link(base: str, page: str, **params: str) -> str:
    return f"{base.rstrip('/')}/{page}" + (f"?{urlencode(params, quote_via=quote)}" if params else "")


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def _signed(x: float | None) -> str:
    return "" if x is None else f"{100 * x:+.1f}"


def _ci(v: Verdict) -> str:
    r = v.row
    return "" if r.diff is None else f"{_signed(r.diff)} [{_signed(r.diff_low)}, {_signed(r.diff_high)}]"


def _p(x: float | None) -> str:
    return "" if x is None else (f"{x:.3f}" if x >= 0.001 else f"{x:.1e}")


def report_json(result: Any) -> dict[str, Any]:
    """Everything in the report, numbers as fractions (a `NightResult`)."""
    cfg = result.config
    url = cfg.leaderboard_url
    return {
        "night_id": result.night_id, "suite": cfg.suite, "label": cfg.label, "tuning": cfg.tuning,
        "started_at": str(result.started_at), "resumed": result.resumed, "harness_version": result.harness_version,
        "verdict": result.verdict, "exit_code": result.exit_code(), "generated": result.generated,
        "reused": result.reused, "warnings": list(result.warnings),
        "domains": {d: list(ts) for d, ts in result.domains.items()}, "config": cfg.to_json(),
        "models": [p.to_json() for p in result.parts],
        "verdicts": [v.to_json() for v in result.verdicts],
        "links": {"night": link(url, "nightly", night=result.night_id),
                  **{f"history:{p.model}": link(url, "history", model=p.model) for p in result.parts}},
    }


def report_markdown(result: Any) -> str:
    cfg = result.config
    url = cfg.leaderboard_url
    out = [f"# Nightly {result.night_id}: {MARK.get(result.verdict, result.verdict)}", ""]
    facts = [f"suite `{cfg.suite}`", f"harness {result.harness_version}", f"k={cfg.k}",
             f"seeds {', '.join(map(str, cfg.seeds))}", f"alpha {cfg.alpha}"]
    if cfg.label:
        facts.insert(0, f"phase **{cfg.label}**")
    if cfg.tuning:
        facts.insert(1, f"tuning `{cfg.tuning}`")
    if result.resumed:
        facts.append("resumed after an unfinished attempt")
    out += [" · ".join(facts), "", f"[This night in the leaderboard]({link(url, 'nightly', night=result.night_id)})", ""]
    for w in result.warnings:
        out += [f"> **Warning:** {w}", ""]

    out += ["## Models", "", "| model | identity | revision | ran | generated | reused | baseline night | history |",
            "|---|---|---|---|---:|---:|---|---|"]
    for p in result.parts:
        ident = p.identity
        who = f"`{ident.get('model_id', '?')}`" + ("" if p.identified else " (unidentified: night key)")
        ran = "done" if p.status == "done" else f"**FAILED**: {p.error}"
        out.append(f"| {p.model} | {who} | {ident.get('revision') or '—'} | {ran} | {p.generated} | {p.reused} | "
                   f"{p.baseline_night or '—'} | [history]({link(url, 'history', model=p.model)}) |")
    reported = [(p.model, p.identity.get("reported")) for p in result.parts if p.identity.get("reported")]
    if reported:
        out += [""] + [f"- {m}: the server reports `{json.dumps(r, sort_keys=True)}`" for m, r in reported]
    out.append("")

    for scope, title in (("domain", "Domains"), ("task", "Tasks")):
        rows = [v for v in result.verdicts if v.row.scope == scope]
        if not rows:
            continue
        out += [f"## {title}", "", "| model | " + scope + " | items | last night | tonight | diff [95% CI] | p | "
                "noise floor | fell | rose | verdict |", "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|"]
        for v in rows:
            r = v.row
            name = r.domain if scope == "domain" else r.task
            flag = f" (fell while `{v.fell_while_tuning}` was tuned)" if v.fell_while_tuning else ""
            out.append(f"| {r.model_name} | {name} | {r.n_items} | {_pct(r.baseline_score)} | {_pct(r.score)} | "
                       f"{_ci(v)} | {_p(r.p_value)} | {_pct(r.noise_floor) or 'n/a'} | {r.fell or 0} | "
                       f"{r.rose or 0} | {MARK[r.status]}{flag} |")
        out.append("")

    flips = [v for v in result.verdicts if v.row.scope == "task" and (v.fell_items or v.rose_items)]
    if flips:
        out += ["## Items that flipped", ""]
        for v in flips:
            r = v.row
            for what, items in (("right last night, wrong tonight", v.fell_items),
                                ("wrong last night, right tonight", v.rose_items)):
                if not items:
                    continue
                shown = ", ".join(f"[{i}]({link(url, 'items', model=r.model_name, task=t, item=i)})"
                                  for t, i in items[:MAX_FLIPPED])
                more = f" and {len(items) - MAX_FLIPPED} more" if len(items) > MAX_FLIPPED else ""
                out.append(f"- {r.model_name} / {r.task}, {what} ({len(items)}): {shown}{more}")
        out.append("")
    out.append(f"Exit status {result.exit_code()} (1: a regression, 3: a model's part failed).")
    return "\n".join(out) + "\n"
