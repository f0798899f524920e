"""Altair charts for the pages. Each takes a plain DataFrame (scores as percentages) and returns a
chart; none reads the store."""

from __future__ import annotations

import altair as alt
import pandas as pd

SCORE_AXIS = alt.Axis(title="score (%)")


def scores_by_task(rows: pd.DataFrame, metric: str) -> alt.Chart:
    """Each model's score per task with its 95% interval (rows: model, task, score, low, high)."""
    base = alt.Chart(rows).encode(y=alt.Y("model:N", title=None, sort="-x"))
    bars = base.mark_rule().encode(x=alt.X("low:Q", title=f"{metric} (%)", scale=alt.Scale(domain=[0, 100])),
                                   x2="high:Q")
    points = base.mark_point(filled=True, size=70).encode(
        x="score:Q", color=alt.Color("model:N", legend=None),
        tooltip=["model", "task", alt.Tooltip("score:Q", format=".1f"), alt.Tooltip("low:Q", format=".1f"),
                 alt.Tooltip("high:Q", format=".1f"), "n_items", "k"])
    layered = alt.layer(bars, points, data=rows).properties(width=560, height=alt.Step(22))
    return layered.facet(row=alt.Row("task:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left"))
                         ).resolve_scale(y="independent")


def score_vs_size(points: pd.DataFrame, metric: str) -> alt.LayerChart:
    """Score against parameter count (log axis) with intervals, labels and the Pareto frontier
    (points: model, params_b, score, low, high, frontier)."""
    x = alt.X("params_b:Q", title="parameters (billions, log scale)", scale=alt.Scale(type="log"))
    base = alt.Chart(points).encode(x=x)
    bars = base.mark_rule(opacity=0.6).encode(y=alt.Y("low:Q", title=f"{metric} (%)"), y2="high:Q",
                                              color=alt.Color("model:N", legend=None))
    dots = base.mark_point(filled=True, size=90).encode(
        y="score:Q", color="model:N",
        shape=alt.Shape("frontier:N", title="on the Pareto frontier"),
        tooltip=["model", alt.Tooltip("params_b:Q", title="params (B)"), alt.Tooltip("score:Q", format=".1f"),
                 alt.Tooltip("low:Q", format=".1f"), alt.Tooltip("high:Q", format=".1f"), "frontier"])
    labels = base.mark_text(align="left", dx=8, dy=-8).encode(y="score:Q", text="model:N")
    front = alt.Chart(points[points["frontier"]].sort_values("params_b")).mark_line(
        interpolate="step-after", strokeDash=[4, 3], color="gray").encode(x=x, y="score:Q")
    return alt.layer(front, bars, dots, labels).properties(height=380)


def accuracy_vs_tokens(points: pd.DataFrame) -> alt.LayerChart:
    """maj@k against mean generated tokens per sample (log axis), one labelled point per model
    (points: model, mean_tokens, maj_at_k in %, tokens_per_correct, params_b)."""
    x = alt.X("mean_tokens:Q", title="generated tokens per sample (mean, log scale)", scale=alt.Scale(type="log"))
    base = alt.Chart(points).encode(x=x, y=alt.Y("maj_at_k:Q", title="maj@k (%)"))
    dots = base.mark_point(filled=True, size=90).encode(
        color=alt.Color("model:N", legend=None),
        tooltip=["model", alt.Tooltip("params_b:Q", title="params (B)"), alt.Tooltip("maj_at_k:Q", format=".1f"),
                 alt.Tooltip("mean_tokens:Q", format=".1f", title="tokens per sample"),
                 alt.Tooltip("tokens_per_correct:Q", format=".1f", title="tokens per correct")])
    labels = base.mark_text(align="left", dx=8, dy=-8).encode(text="model:N")
    return alt.layer(dots, labels).properties(height=340)


def voting_gain(gain: pd.DataFrame) -> alt.Chart:
    """maj@k minus pass@1 per model and task (gain in points)."""
    return alt.Chart(gain).mark_bar().encode(
        x=alt.X("model:N", title=None, sort=alt.EncodingSortField("params_b")),
        y=alt.Y("gain:Q", title="maj@k − pass@1 (points)"),
        color=alt.condition("datum.gain >= 0", alt.value("#4c78a8"), alt.value("#e45756")),
        column=alt.Column("task:N", title=None),
        tooltip=["model", "task", "k", alt.Tooltip("gain:Q", format="+.1f")],
    )


def history(rows: pd.DataFrame, metric: str) -> alt.LayerChart:
    """Score over time per model (rows: finished_at, model, score, low, high, run_id)."""
    base = alt.Chart(rows).encode(x=alt.X("finished_at:T", title="scored at", axis=alt.Axis(format="%Y-%m-%d %H:%M", labelAngle=-30)), color=alt.Color("model:N"))
    line = base.mark_line(point=True).encode(
        y=alt.Y("score:Q", title=f"{metric} (%)"),
        tooltip=["model", "run_id", alt.Tooltip("finished_at:T", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("score:Q", format=".1f"), alt.Tooltip("low:Q", format=".1f"),
                 alt.Tooltip("high:Q", format=".1f"), "n_items", "k"])
    band = base.mark_rule(opacity=0.5).encode(y="low:Q", y2="high:Q")
    return alt.layer(band, line)


def votes(dist: pd.DataFrame) -> alt.Chart:
    """The vote distribution of one item (dist: answer, votes, verdict)."""
    return alt.Chart(dist).mark_bar().encode(
        x=alt.X("votes:Q", title="samples", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("answer:N", title="answer", sort="-x"),
        color=alt.Color("verdict:N", scale=alt.Scale(
            domain=["correct", "incorrect", "unparseable", "timeout"],
            range=["#54a24b", "#e45756", "#bab0ac", "#f58518"])),
        tooltip=["answer", "votes", alt.Tooltip("share:Q", format=".0%"), "verdict"],
    )


def domain_history(rows: pd.DataFrame) -> alt.LayerChart:
    """Each domain's score night after night (rows: night_no, night_id, domain, score, status, label,
    fell_while_tuning; scores in %), phase labels along the top, falls while another domain was
    tuned ringed in red."""
    x = alt.X("night_no:O", title="night")
    base = alt.Chart(rows).encode(x=x)
    lines = base.mark_line(point=True).encode(
        y=alt.Y("score:Q", title="domain score, maj@k (%)"), color=alt.Color("domain:N"),
        tooltip=["night_id", "domain", alt.Tooltip("score:Q", format=".1f"), "status", "label"])
    fell = alt.Chart(rows[rows["fell_while_tuning"].notna()]).mark_point(
        size=260, color="#e45756", strokeWidth=2).encode(x=x, y="score:Q")
    labels = alt.Chart(rows.drop_duplicates("night_id").fillna({"label": ""})).mark_text(
        dy=-8, angle=0, baseline="bottom").encode(x=x, y=alt.value(0), text="label:N")
    return alt.layer(lines, fell, labels).properties(height=320)


def paired_difference(rows: pd.DataFrame, a: str, b: str, level: str = "95%") -> alt.LayerChart:
    """A − B per task with its paired interval (rows: task, diff, low, high in points; `overall`
    last), a zero line to read "is the difference real?" at a glance."""
    order = rows["task"].tolist()
    y = alt.Y("task:N", title=None, sort=order)
    base = alt.Chart(rows).encode(y=y)
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title=f"{a} − {b} (points), {level} paired interval", scale=alt.Scale(domain=difference_domain(rows))),
        x2="high:Q")
    dots = base.mark_point(filled=True, size=80).encode(
        x="diff:Q", color=alt.condition("datum.diff >= 0", alt.value("#4c78a8"), alt.value("#e45756")),
        tooltip=["task", alt.Tooltip("diff:Q", format="+.1f"), alt.Tooltip("low:Q", format="+.1f"),
                 alt.Tooltip("high:Q", format="+.1f"), "items"])
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 3], color="gray").encode(x="x:Q")
    return alt.layer(zero, bars, dots).properties(height=alt.Step(28))


def difference_domain(rows: pd.DataFrame) -> list[float]:
    """The x range of the difference chart: every interval and 0, with room on both sides (a tenth of
    the span, at least a point), so an interval that reaches 0 never runs into the chart's edge."""
    lo = min(0.0, float(rows["low"].min()), float(rows["diff"].min()))
    hi = max(0.0, float(rows["high"].max()), float(rows["diff"].max()))
    pad = max(1.0, (hi - lo) / 10)
    return [lo - pad, hi + pad]


def outcome_counts(counts: pd.DataFrame, a: str, b: str) -> alt.Chart:
    """Items per task that both models solve, only A, only B, or neither (counts: task, outcome,
    items; outcome one of metrics.OUTCOMES), as stacked bars."""
    names = {"both": "both", "only A": f"only {a}", "only B": f"only {b}", "neither": "neither"}
    shown = counts.assign(outcome=counts["outcome"].map(names), rank=counts["outcome"].map(
        {k: i for i, k in enumerate(names)}))
    return alt.Chart(shown).mark_bar().encode(
        y=alt.Y("task:N", title=None),
        x=alt.X("items:Q", title="items (majority vote)", stack="zero"),
        color=alt.Color("outcome:N", title=None, sort=list(names.values()),
                        scale=alt.Scale(domain=list(names.values()),
                                        range=["#54a24b", "#4c78a8", "#f58518", "#bab0ac"])),
        order=alt.Order("rank:Q"),
        tooltip=["task", "outcome", "items"],
    ).properties(height=alt.Step(28))


def queue_edge(hist: pd.DataFrame) -> alt.Chart:
    """The model's pass rate on its queued items (hist: model, reason, low, high, items; rates as
    fractions), stacked by why each was queued."""
    return alt.Chart(hist).mark_bar().encode(
        x=alt.X("low:Q", bin="binned", title="the model's pass rate on the item (share of its samples right)",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        x2="high:Q",
        y=alt.Y("items:Q", title="queued items", stack="zero"),
        color=alt.Color("reason:N", title="queued because", scale=alt.Scale(
            domain=["own_samples", "teacher"], range=["#4c78a8", "#f58518"])),
        tooltip=["model", "reason", alt.Tooltip("low:Q", format=".0%", title="from"),
                 alt.Tooltip("high:Q", format=".0%", title="to"), "items"],
    ).properties(height=240)


def success_curve(points: pd.DataFrame, marks: pd.DataFrame) -> alt.LayerChart:
    """p(correct) along a sample: each estimated prefix at its token position with its 95% interval
    (points: position, p, low, high, n, prefix_end), and the pivotal tokens as rules from p before
    to p after (marks: position, p_before, p_after, delta, token)."""
    x = alt.X("position:Q", title="tokens of the sample")
    base = alt.Chart(points).encode(x=x)
    band = base.mark_rule(opacity=0.4).encode(y=alt.Y("low:Q", title="p(correct) from here",
                                                      scale=alt.Scale(domain=[0, 1])), y2="high:Q")
    line = base.mark_line(interpolate="step-after", point=True).encode(
        y="p:Q", tooltip=[alt.Tooltip("position:Q", title="tokens"), alt.Tooltip("p:Q", format=".2f"),
                          alt.Tooltip("n:Q", title="rollouts (0: the verdict)"), alt.Tooltip("prefix_end:N", title="prefix ends")])
    layers = [band, line]
    if not marks.empty:
        jumps = alt.Chart(marks).mark_rule(strokeWidth=4).encode(
            x="end:Q", y="p_before:Q", y2="p_after:Q",
            color=alt.Color("direction:N", scale=alt.Scale(domain=["rises", "falls"], range=["#1a7f37", "#cf222e"]),
                            title="pivotal token"),
            tooltip=["token:N", alt.Tooltip("p_before:Q", format=".2f"), alt.Tooltip("p_after:Q", format=".2f"),
                     alt.Tooltip("delta:Q", format="+.2f")])
        layers.append(jumps)
    return alt.layer(*layers).properties(height=220)
