"""Text forms of a `harness.analysis.compare.Comparison`: rich table, markdown, JSON.

Rendering only: every number shown was computed by `harness.analysis.compare.compare`. Scores are printed
as percentages with one decimal, differences as signed points (A - B); JSON keeps raw fractions.
"""

from __future__ import annotations

import json
from typing import Any

from harness.analysis import numbers
from harness.analysis.compare import Budget, Comparison, TaskResult
from harness.analysis.stats import Interval

# --- words -------------------------------------------------------------------------------------


def format_params(n: float | None) -> str:
    """14e9 -> '14B', 1.5e9 -> '1.5B', 350e6 -> '350M'."""
    if n is None:
        return "?"
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.0f}"


_pct = numbers.pct  # one rounding rule for every surface (harness.analysis.numbers)
_signed_pct = numbers.signed_pct


def _p(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def size_summary(c: Comparison) -> str | None:
    """One sentence on size efficiency, or None without parameter counts or results."""
    s, o = c.size, c.overall
    if s is None or o is None:
        return None
    level = f"{round(100 * c.confidence)}%"
    ci = f"{_signed_pct(o.diff)} points, {level} CI [{_signed_pct(o.diff_ci_low)}, {_signed_pct(o.diff_ci_high)}]"
    if s.smaller is None:
        return f"{c.a_name} and {c.b_name} have the same size; {c.a_name} - {c.b_name} = {ci} on {c.metric}."
    small, large = (c.a_name, c.b_name) if s.smaller == "a" else (c.b_name, c.a_name)
    small_p, large_p = (c.a_params, c.b_params) if s.smaller == "a" else (c.b_params, c.a_params)
    head = f"{small} ({format_params(small_p)}) vs {large} ({format_params(large_p)}, {s.size_ratio:.3g}x larger)"
    if s.verdict == "smaller_better":
        verdict = "the smaller model is better"
    elif s.verdict == "larger_better":
        verdict = "the larger model is better"
    else:
        verdict = "statistically indistinguishable"
        if s.equivalent:
            verdict += f" and equivalent within {_pct(s.margin)} points"
    return f"{head} on {c.metric}: {verdict} ({c.a_name} - {c.b_name} = {ci})."


# --- JSON --------------------------------------------------------------------------------------


def _score_json(s: Interval) -> dict[str, Any]:
    return {"score": s.estimate, "ci_low": s.low, "ci_high": s.high, "method": s.method}


def _task_json(t: TaskResult) -> dict[str, Any]:
    return {
        "task": t.task, "metric": t.metric, "n_items": t.n_items,
        "a": _score_json(t.a), "b": _score_json(t.b),
        "diff": t.diff, "diff_ci_low": t.diff_ci_low, "diff_ci_high": t.diff_ci_high,
        "p_value": t.p_value, "p_method": t.p_method,
        "a_only": t.a_only, "b_only": t.b_only,
        "agreement": t.agreement, "answer_agreement": t.answer_agreement,
        "dropped_a": t.dropped_a, "dropped_b": t.dropped_b,
        "a_contaminated": t.a_contaminated, "b_contaminated": t.b_contaminated,
        "budget": {"a": _budget_json(t.a_budget), "b": _budget_json(t.b_budget)},
    }


def _budget_json(b: Budget | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {"n_samples": b.n_samples, "n_correct": b.n_correct, "n_wrong": b.n_wrong,
            "n_unfinished": b.n_unfinished, "unfinished_rate": b.unfinished_rate, "n_forced": b.n_forced,
            "prompt_tokens": b.prompt_tokens, "completion_tokens": b.completion_tokens,
            "thinking_tokens": b.thinking_tokens, "mean_tokens": b.mean_tokens,
            "tokens_per_correct": b.tokens_per_correct, "cost": b.cost, "cost_per_correct": b.cost_per_correct}


def to_json_dict(c: Comparison, include_items: bool = False) -> dict[str, Any]:
    s = c.size
    out: dict[str, Any] = {
        "models": {"a": {"name": c.a_name, "params": c.a_params}, "b": {"name": c.b_name, "params": c.b_params}},
        "metric": c.metric,
        "confidence": c.confidence,
        "n_resamples": c.n_resamples,
        "seed": c.seed,
        "diff_is": "a - b",
        "tasks": [_task_json(t) for t in c.tasks],
        "overall": None if c.overall is None else _task_json(c.overall),
        "size_efficiency": None if s is None else {
            "a_per_log_param": s.a_per_log_param, "b_per_log_param": s.b_per_log_param,
            "size_ratio": s.size_ratio, "smaller": s.smaller, "verdict": s.verdict,
            "equivalence_margin": s.margin, "equivalent": s.equivalent, "summary": size_summary(c),
        },
        "skipped": [{"task": k.task, "missing": list(k.missing), "a_items": k.a_items, "b_items": k.b_items}
                    for k in c.skipped],
    }
    if include_items:
        out["items"] = [
            {"task": d.task, "item_id": d.item_id, "winner": d.winner, "a_value": d.a_value,
             "b_value": d.b_value, "a_answer": d.a_answer, "a_share": d.a_share, "b_answer": d.b_answer,
             "b_share": d.b_share, "gold": d.gold}
            for d in c.items
        ]
    return out


def render_json(c: Comparison, include_items: bool = False) -> str:
    return json.dumps(to_json_dict(c, include_items), indent=2, allow_nan=False)


# --- markdown ----------------------------------------------------------------------------------


def _shown(c: Comparison) -> tuple[TaskResult, ...]:
    """The task rows, then the pooled row when there is more than one task."""
    return (*c.tasks, *(() if c.overall is None or len(c.tasks) < 2 else (c.overall,)))


def _rows(c: Comparison) -> list[list[str]]:
    rows = []
    for t in _shown(c):
        rows.append([
            t.task, str(t.n_items),
            f"{_pct(t.a.estimate)} [{_pct(t.a.low)}, {_pct(t.a.high)}]",
            f"{_pct(t.b.estimate)} [{_pct(t.b.low)}, {_pct(t.b.high)}]",
            f"{_signed_pct(t.diff)} [{_signed_pct(t.diff_ci_low)}, {_signed_pct(t.diff_ci_high)}]",
            _p(t.p_value), str(t.a_only), str(t.b_only), _pct(t.agreement),
            f"{t.dropped_a}/{t.dropped_b}",
        ])
    return rows


def _headers(c: Comparison) -> list[str]:
    return ["task", "n", f"{c.a_name} {c.metric}", f"{c.b_name} {c.metric}", f"{c.a_name} - {c.b_name}",
            "p", f"only {c.a_name}", f"only {c.b_name}", "agree %", f"unpaired {c.a_name}/{c.b_name}"]


BUDGET_HEADERS = ["task", "model", "samples", "right", "wrong", "unfinished", "tokens per sample", "thinking %",
                  "tokens per right", "cost", "cost per right"]


def _num(x: float | None, fmt: str = ",.0f") -> str:
    return "—" if x is None else format(x, fmt)


def _budget_forced(c: Comparison) -> bool:
    """Whether the budget table shows a `forced` column: some sample's thinking was closed at its budget."""
    return any(b is not None and b.n_forced for t in _shown(c) for b in (t.a_budget, t.b_budget))


def _budget_headers(c: Comparison) -> list[str]:
    h = list(BUDGET_HEADERS)
    if _budget_forced(c):
        h.insert(h.index("unfinished") + 1, "forced")
    return h


def _budget_rows(c: Comparison) -> list[list[str]]:
    """Per task and model: right, wrong and unfinished samples (thinking that never closed is not a
    wrong answer), those whose thinking budget forcing closed (when any was), generated tokens per
    sample, the thinking's share of them, tokens per right answer, cost."""
    rows = []
    forced = _budget_forced(c)
    for t in _shown(c):
        for name, b in ((c.a_name, t.a_budget), (c.b_name, t.b_budget)):
            if b is None:
                continue
            think = (_pct(b.thinking_tokens / b.completion_tokens)
                     if b.thinking_tokens is not None and b.completion_tokens else "—")
            rows.append([t.task, name, str(b.n_samples), str(b.n_correct), str(b.n_wrong),
                         f"{b.n_unfinished} ({_pct(b.unfinished_rate or 0.0)}%)",
                         *([f"{b.n_forced} ({_pct(b.n_forced / b.n_samples if b.n_samples else 0.0)}%)"]
                           if forced else []),
                         _num(b.mean_tokens), think, _num(b.tokens_per_correct),
                         _num(b.cost, ".4g"), _num(b.cost_per_correct, ".4g")])
    return rows


BUDGET_TITLE = "Samples and tokens on the compared items (unfinished: thinking never closed, no answer)"


def _budget_title(c: Comparison) -> str:
    return BUDGET_TITLE[:-1] + ("; forced: thinking closed at its budget)" if _budget_forced(c) else ")")


def _item_headers(c: Comparison) -> list[str]:
    return ["task", "item", "ahead", f"{c.a_name} answer (share)", f"{c.b_name} answer (share)", "gold"]


def _item_rows(c: Comparison, limit: int | None) -> list[list[str]]:
    def ans(x: str | None, share: float | None) -> str:
        return f"{x if x is not None else '—'} ({_pct(share)}%)" if share is not None else (x or "—")
    return [[d.task, d.item_id, c.a_name if d.winner == "a" else c.b_name, ans(d.a_answer, d.a_share),
             ans(d.b_answer, d.b_share), d.gold if d.gold is not None else "—"]
            for d in c.items[:limit]]


def _footer(c: Comparison) -> list[str]:
    lines = []
    p_how = "McNemar exact" if c.metric == "maj@k" else "paired sign-flip permutation"
    lines.append(f"{round(100 * c.confidence)}% intervals: "
                 + ("Wilson per model" if c.metric == "maj@k" else "bootstrap per model")
                 + f"; difference by paired bootstrap over items ({c.n_resamples:,} resamples, seed {c.seed}"
                 + ("; overall resamples within tasks" if len(c.tasks) > 1 else "") + "); "
                 + f"p: {p_how}.")
    if (s := size_summary(c)) is not None:
        lines.append(s)
    for k in c.skipped:
        lines.append(f"{k.task}: no results for {', '.join(k.missing)}" if k.missing
                     else f"{k.task}: no items in common ({k.a_items} vs {k.b_items})")
    return lines


def _items_title(c: Comparison, limit: int | None) -> str:
    n = len(c.items)
    shown = n if limit is None else min(n, limit)
    hidden = f": showing {shown} of {n} (--item-limit N, or --format json for all)" if shown < n else ""
    return f"Items that differ ({n}){hidden}"


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def render_markdown(c: Comparison, include_items: bool = False, item_limit: int | None = None) -> str:
    def table(headers: list[str], rows: list[list[str]]) -> list[str]:
        out = ["| " + " | ".join(_md_escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(_md_escape(x) for x in r) + " |" for r in rows]
        return out

    lines = [f"## {c.a_name} vs {c.b_name} ({c.metric})", ""]
    lines += table(_headers(c), _rows(c)) if c.tasks else ["No task could be compared."]
    lines += [""] + [f"- {x}" for x in _footer(c)]
    if budget := _budget_rows(c):
        lines += ["", f"### {_budget_title(c)}", ""] + table(_budget_headers(c), budget)
    if include_items:
        lines += ["", f"### {_items_title(c, item_limit)}", ""]
        lines += table(_item_headers(c), _item_rows(c, item_limit))
    return "\n".join(lines) + "\n"


# --- rich table ---------------------------------------------------------------------------------
#
# A terminal gets every number whole: a cell is never wrapped or cut (an interval stays on its line).
# A table that does not fit the width is split into several with the same leading columns (task,
# model), and where even that does not fit each row is printed as lines of "header: value". Columns
# with nothing to show (no thinking model, no prices, nothing unpaired) are left out.


def _widths(headers: list[str], rows: list[list[str]]) -> list[int]:
    """Each column's narrowest width that cuts no cell: its widest cell, or its header's longest word."""
    return [max([max((len(w) for w in h.split()), default=1), *(len(r[i]) for r in rows)])
            for i, h in enumerate(headers)]


def _min_width(headers: list[str], rows: list[list[str]]) -> int:
    """The narrowest table of these cells that cuts none (borders and padding: 3 a column, plus 1)."""
    cols = _widths(headers, rows)
    return sum(cols) + 3 * len(cols) + 1


def _empty_columns(headers: list[str], rows: list[list[str]], keep: int) -> list[int]:
    """Columns (after the first `keep`) whose every cell says nothing: a dash, or only zeros."""
    def nothing(x: str) -> bool:
        return x in ("", "—") or x.replace("0", "").replace(".", "").replace("/", "").replace("(", "").replace(
            ")", "").replace("%", "").strip() == ""
    return [i for i in range(keep, len(headers)) if rows and all(nothing(r[i]) for r in rows)]


def _fit(title: str, headers: list[str], rows: list[list[str]], width: int, keep: int,
         styles: list[list[str | None]] | None = None, row_styles: list[str | None] | None = None) -> list[Any]:
    """`rows` as one table when it fits `width`, else as tables of the same `keep` leading columns and
    as many others as fit, else (not even one other column fits) as "header: value" lines per row."""
    from rich.table import Table
    from rich.text import Text

    def table(cols: list[int], part_title: str) -> Any:
        t = Table(title=part_title, title_justify="left")
        widths = _widths(headers, rows)
        spare = width - (sum(widths[i] for i in cols) + 3 * len(cols) + 1)
        for i in cols:  # as wide as its widest cell (wider, up to its header, where there is room)
            grow = max(0, min(spare, len(headers[i]) - widths[i]))
            spare -= grow
            t.add_column(headers[i], justify="left" if i < keep else "right", width=widths[i] + grow)
        for r, row in enumerate(rows):
            cells = []
            for i in cols:
                cell = Text(row[i], no_wrap=True, justify="left" if i < keep else "right")
                style = styles[r][i] if styles else None
                if style:
                    cell.stylize(style)
                cells.append(cell)
            t.add_row(*cells, style=row_styles[r] if row_styles else None)
        return t

    every = list(range(len(headers)))
    if _min_width(headers, rows) <= width:
        return [table(every, title)]
    lead, rest = every[:keep], every[keep:]
    groups: list[list[int]] = []
    for i in rest:
        cols = [*lead, *(groups[-1][len(lead):] if groups else []), i]
        if groups and _min_width([headers[j] for j in cols], [[r[j] for j in cols] for r in rows]) <= width:
            groups[-1].append(i)
        else:
            groups.append([*lead, i])
    def fits(g: list[int]) -> bool:
        return _min_width([headers[j] for j in g], [[r[j] for j in g] for r in rows]) <= width

    # As many tables as the greedy fill needed, the columns shared out evenly where that fits too.
    size = -(-len(rest) // len(groups))
    even = [[*lead, *rest[n:n + size]] for n in range(0, len(rest), size)]
    if len(even) == len(groups) and all(fits(g) for g in even):
        groups = even
    if all(fits(g) for g in groups):
        return [table(g, f"{title} ({n}/{len(groups)})") for n, g in enumerate(groups, 1)]
    lines: list[Any] = [Text(title, style="italic")]
    for row in rows:
        lines.append(Text(" ".join(row[:keep]), style="bold"))
        lines += [Text(f"  {headers[i]}: {row[i]}") for i in rest]
    return lines


def render_table(c: Comparison, include_items: bool = False, item_limit: int | None = None,
                 width: int | None = None) -> Any:
    """A rich renderable (print it with a rich Console) laid out for `width` columns (default: the
    terminal's, as rich measures it)."""
    from rich.console import Console, Group
    from rich.text import Text

    width = width or Console().width
    parts: list[Any] = []
    if c.tasks:
        headers, rows = _headers(c), _rows(c)
        styles: list[list[str | None]] = []
        for res in _shown(c):
            row: list[str | None] = [None] * len(headers)
            row[4] = "green" if res.diff_ci_low > 0 else "red" if res.diff_ci_high < 0 else None
            styles.append(row)
        drop = {i for i in _empty_columns(headers, rows, keep=2) if headers[i].startswith("unpaired")}
        cols = [i for i in range(len(headers)) if i not in drop]
        parts += _fit(f"{c.a_name} vs {c.b_name} ({c.metric})", [headers[i] for i in cols],
                      [[r[i] for i in cols] for r in rows], width, keep=1,
                      styles=[[st[i] for i in cols] for st in styles],
                      row_styles=["bold" if res is c.overall else None for res in _shown(c)])
    else:
        parts.append(Text("No task could be compared."))
    parts += [Text(x, style="dim" if i == 0 else "") for i, x in enumerate(_footer(c))]
    if budget := _budget_rows(c):
        headers = _budget_headers(c)
        drop = set(_empty_columns(headers, budget, keep=2))
        cols = [i for i in range(len(headers)) if i not in drop]
        title = _budget_title(c) if "unfinished" in [headers[i] for i in cols] else BUDGET_TITLE.split(" (")[0]
        parts += _fit(title, [headers[i] for i in cols], [[r[i] for i in cols] for r in budget], width, keep=2)
    if include_items:
        parts += _fit(_items_title(c, item_limit), _item_headers(c), _item_rows(c, item_limit), width, keep=2)
    return Group(*parts)
