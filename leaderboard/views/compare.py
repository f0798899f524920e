"""Compare: two models item by item with the paired statistics of `harness compare`
(`harness.analysis.compare.compare`): per task the difference with its interval and how many items both,
only one or neither solve, and the items each one wins, each linked to its samples side by side in
the Item explorer. `compare?a=A&b=B` opens on that pair; the URL follows the pickers."""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from harness.analysis import numbers
from harness.analysis.compare import Comparison, compare
from harness.analysis.compare_render import size_summary
from harness.analysis.results import COLUMNS, columns_of, from_columns
from harness.leaderboard import charts, common, data, metrics

ITEMS_SHOWN = 1_000  # rows per "wins" table: the most confident first; the CLI's JSON lists every item

st.title("Compare two models")
scores = common.scores_or_stop()
latest = metrics.latest(scores.df)
models = common.models_by_size(latest)
if len(models) < 2:
    st.info(f"Only `{models[0]}` has finished runs. Compare needs two models scored on the same tasks, e.g. "
            f"`harness run --model 70b --task {','.join(sorted(latest['task'].unique()))} -k 8 "
            f"--db {data.db_path()}`.")
    st.stop()



def default_pair(latest: pd.DataFrame, models: list[str]) -> tuple[str, str]:
    """Small against large: of the pairs that share items (by the tasks both have), the one furthest
    apart in size (smaller first; unknown sizes count as equal), then the one sharing the most items, so
    the page opens on the question it is for and never on two models with nothing in common."""
    items = {m: dict(zip(g["task"], g["n_items"])) for m, g in latest.groupby("model")}
    sizes = {m: float(g["params_b"].dropna().iloc[-1]) if g["params_b"].notna().any() else None
             for m, g in latest.groupby("model")}
    order = {m: i for i, m in enumerate(models)}
    pairs = [(x, y) for i, x in enumerate(models) for y in models[i + 1:]]

    def shared(p: tuple[str, str]) -> int:
        return sum(min(n, items[p[1]][t]) for t, n in items[p[0]].items() if t in items[p[1]])

    def ratio(p: tuple[str, str]) -> float:
        x, y = sizes[p[0]], sizes[p[1]]
        return y / x if x and y and x > 0 else 1.0

    sharing = [p for p in pairs if shared(p)] or pairs
    return max(sharing, key=lambda p: (ratio(p), shared(p), order[p[1]] - order[p[0]], -order[p[0]]))


da, db_ = default_pair(latest, models)
qa, qb = st.query_params.get("a"), st.query_params.get("b")
if qa in models:
    da = qa
if qb in models and qb != da:
    db_ = qb
left, right, third = st.columns(3)
a = left.selectbox("Model A", models, index=models.index(da), key="cmp_a")
others = [m for m in models if m != a]
b = right.selectbox("Model B", others, index=others.index(db_) if db_ in others else len(others) - 1, key="cmp_b")
with third:
    metric = common.metric_picker("cmp_metric")
if st.query_params.to_dict() != {"a": a, "b": b}:
    st.query_params.from_dict({"a": a, "b": b})


# A resource, not data: the comparison is frozen and read only, so every session shares the one object
# instead of a pickled copy (pickling a comparison of 200,000 items costs more than the page may take).
@st.cache_resource(max_entries=32, show_spinner="Comparing item by item...")
def comparison(path: str, token: tuple, a: str, b: str, metric: str, _items: pd.DataFrame) -> Comparison:
    cols = columns_of(_items)
    ra, rb = from_columns(a, cols), from_columns(b, cols)  # results and sizes as `harness compare`'s
    return compare(ra.outcomes, rb.outcomes, a_name=a, b_name=b, metric=metric,  # type: ignore[arg-type]
                   a_params=ra.params, b_params=rb.params)


@st.cache_data(max_entries=32, show_spinner=False)
def outcomes(path: str, token: tuple, a: str, b: str, _items: pd.DataFrame) -> pd.DataFrame:
    """Per task, the items both solve, only one, or neither (by majority vote)."""
    votes = _items[["model", "task", "item_id", "maj_correct"]]
    return metrics.outcome_counts(*(votes[votes["model"] == m] for m in (a, b)))


# The columns compare reads, but the models' specs: the page shows no prices (`harness compare` does).
both = data.read("latest_results", (a, b), None, 0, tuple(c for c in COLUMNS if c != "spec"))
common.stale_note(scores, both)
c = comparison(str(data.db_path()), both.token, a, b, metric, both.df)

if c.overall is None:
    st.warning(f"`{a}` and `{b}` have no task with items in common.")
    st.stop()

o = c.overall
level = f"{round(100 * c.confidence)}%"
m1, m2, m3, m4 = st.columns(4)
# Every number rounded once, by the rule the CLI and the story use (harness.analysis.numbers).
pct, signed, points = numbers.pct, numbers.signed_pct, numbers.points
m1.metric(f"{a} {metric}", pct(o.a.estimate), help=f"{level} CI {pct(o.a.low)}-{pct(o.a.high)}")
m2.metric(f"{b} {metric}", pct(o.b.estimate), help=f"{level} CI {pct(o.b.low)}-{pct(o.b.high)}")
m3.metric(f"{a} − {b} (points)", signed(o.diff),
          help=f"paired bootstrap {level} CI [{signed(o.diff_ci_low)}, {signed(o.diff_ci_high)}]")
m4.metric("p-value", f"{o.p_value:.3g}", help=o.p_method)
summary = size_summary(c)
st.markdown(summary or f"Over {o.n_items} shared items: {a} − {b} = {signed(o.diff)} points, {level} CI "
            f"[{signed(o.diff_ci_low)}, {signed(o.diff_ci_high)}], p = {o.p_value:.3g} ({o.p_method}).")

for t in c.tasks:
    for name, n in ((a, t.a_contaminated), (b, t.b_contaminated)):
        if n:
            st.warning(f"`{name}` was trained on {n} of the {t.n_items} {t.task} items compared (its lineage): its "
                       "score there may be inflated (possibly contaminated).")

table = pd.DataFrame([{
    "task": t.task, "items": t.n_items, a: points(t.a.estimate), b: points(t.b.estimate), "diff": points(t.diff),
    "diff low": points(t.diff_ci_low), "diff high": points(t.diff_ci_high), "p": t.p_value,
    f"only {a}": t.a_only, f"only {b}": t.b_only, "agreement": points(t.agreement),
} for t in (*c.tasks, o)])
st.dataframe(table, hide_index=True, width="stretch", column_config={
    a: st.column_config.NumberColumn(f"{a} {metric}", format="%.1f"),
    b: st.column_config.NumberColumn(f"{b} {metric}", format="%.1f"),
    "diff": st.column_config.NumberColumn(f"{a} − {b}", format="%+.1f"),
    "diff low": st.column_config.NumberColumn(f"{level} low", format="%+.1f"),
    "diff high": st.column_config.NumberColumn(f"{level} high", format="%+.1f"),
    "p": st.column_config.NumberColumn("p", format="%.3g", help=o.p_method),
    "agreement": st.column_config.NumberColumn("same outcome (%)", format="%.1f")})
st.altair_chart(charts.paired_difference(table.rename(columns={"diff low": "low", "diff high": "high"}), a, b, level),
                width="stretch")
counts = outcomes(str(data.db_path()), both.token, a, b, both.df)
st.markdown("**Items both solve, only one, or neither** (by majority vote) per task")
st.altair_chart(charts.outcome_counts(counts, a, b), width="stretch")
wide = counts.pivot(index="task", columns="outcome", values="items")[list(metrics.OUTCOMES)].reset_index()
st.dataframe(wide.rename(columns={"only A": f"only {a}", "only B": f"only {b}"}), hide_index=True)
if c.skipped:
    st.caption("Not compared: " + "; ".join(
        f"{s.task} (no results for {', '.join(s.missing)})" if s.missing else f"{s.task} (no shared items)"
        for s in c.skipped))

st.subheader("Items each one wins")
d = c.items.columns  # the differing items as columns, most confident first (no Python object per item)
won_by = {m: np.flatnonzero(d["winner"] == side) for m, side in ((a, "a"), (b, "b"))}
st.caption("Most confident disagreements first. \"open\", beside each item, shows both models' samples of it "
           "side by side." + (f" Each table shows its first {ITEMS_SHOWN:,} items; `harness compare {a} vs {b} --items "
                              "--format json` lists them all." if any(len(w) > ITEMS_SHOWN for w in won_by.values())
                              else ""))
config = {**{f"{m} share": st.column_config.NumberColumn(f"{m} vote share", format="%.2f") for m in (a, b)},
          "samples": st.column_config.LinkColumn("samples", display_text="open",
                                                 help=f"{a} and {b}'s samples of this item side by side")}
for model, rows in won_by.items():
    shown = rows[:ITEMS_SHOWN]
    won = pd.DataFrame({"task": d["task"][shown], "item": d["item_id"][shown], "gold": d["gold"][shown],
                        f"{a} answer": d["a_answer"][shown], f"{a} share": d["a_share"][shown],
                        f"{b} answer": d["b_answer"][shown], f"{b} share": d["b_share"][shown],
                        f"{a} value": d["a_value"][shown], f"{b} value": d["b_value"][shown]})
    # The link sits beside the item it opens (not in a last column scrolled out of a half-width table).
    won.insert(2, "samples", [f"items?{urlencode({'task': t, 'models': f'{a},{b}', 'item': i}, safe=',')}"
                              for t, i in zip(won["task"], won["item"])])
    st.markdown(f"**{model} wins {len(rows)} item(s)**")
    st.dataframe(won, hide_index=True, width="stretch", column_config=config)
