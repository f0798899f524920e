"""The three text forms of a comparison carry the same numbers: JSON exactly, markdown and the rich
table as rounded percentages."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from scipy import stats as sps

from harness.analysis.compare import ItemOutcome, compare
from harness.analysis.compare_render import format_params, render_json, render_markdown, render_table, size_summary
from test_compare_core import A_ONLY, B_ONLY, N, known_pair

REQUIRED = {"task", "n_items", "a", "b", "diff", "diff_ci_low", "diff_ci_high", "p_value", "a_only", "b_only"}


@pytest.fixture(scope="module")
def comparison():
    a, b = known_pair()
    a2, b2 = known_pair("gsm8k", n=100, both=60, a_only=10, b_only=5, seed=1)
    a.update(a2)
    b.update(b2)
    a[("mbpp", "0")] = ItemOutcome(True, 1.0)
    return compare(a, b, a_name="phi", b_name="70b", a_params=14e9, b_params=70e9,
                   tasks=["math", "gsm8k", "mbpp"], n_resamples=2000)


def test_json_has_the_required_fields_and_exact_values(comparison) -> None:
    d = json.loads(render_json(comparison, include_items=True))
    assert d["models"]["a"] == {"name": "phi", "params": 14e9}
    assert d["metric"] == "maj@k" and d["n_resamples"] == 2000 and d["diff_is"] == "a - b"
    math_ = d["tasks"][0]
    assert REQUIRED <= set(math_) and {"score", "ci_low", "ci_high"} <= set(math_["a"])
    assert (math_["task"], math_["n_items"], math_["a"]["score"], math_["b"]["score"]) == ("math", N, 0.6, 0.7)
    assert math_["diff"] == pytest.approx(-0.1)
    assert math_["p_value"] == pytest.approx(sps.binomtest(A_ONLY, A_ONLY + B_ONLY, 0.5).pvalue)
    assert (math_["a_only"], math_["b_only"]) == (A_ONLY, B_ONLY)
    assert d["overall"]["n_items"] == 600
    assert d["size_efficiency"]["verdict"] == "larger_better"
    assert d["skipped"] == [{"task": "mbpp", "missing": ["70b"], "a_items": 1, "b_items": 0}]
    assert len(d["items"]) == 145 and d["items"][0]["winner"] in ("a", "b")
    assert "items" not in json.loads(render_json(comparison))


def test_markdown_table(comparison) -> None:
    md = render_markdown(comparison, include_items=True, item_limit=3)
    assert "| math | 500 | 60.0 [55.6, 64.2] | 70.0 [65.8, 73.9] | -10.0 [" in md
    assert "| 1.4e-05 | 40 | 90 | 74.0 | 0/0 |" in md
    assert "| overall | 600 | 61.7" in md
    assert "10,000" not in md and "2,000 resamples" in md
    assert "mbpp: no results for 70b" in md
    assert "### Items that differ (145)" in md
    assert md.count("| math |") + md.count("| gsm8k |") == 2 + 3  # two score rows, three item rows
    assert "\\[7]" not in md and "[7] (50.0%)" in md  # brackets left alone, pipes escaped only


def test_rich_table_prints_answers_literally(comparison) -> None:
    console = Console(record=True, width=220, color_system=None)
    console.print(render_table(comparison, include_items=True, item_limit=5))
    text = console.export_text()
    assert "60.0 [55.6, 64.2]" in text and "70.0 [65.8, 73.9]" in text
    assert "overall" in text and "Items that differ (145)" in text
    assert "[7] (50.0%)" in text  # not swallowed as markup
    assert "larger model is better" in text


def test_size_summary_and_params() -> None:
    assert [format_params(x) for x in (14e9, 1.5e9, 350e6, 70e9, None)] == ["14B", "1.5B", "350M", "70B", "?"]
    a, b = known_pair(both=300, a_only=50, b_only=50)
    s = size_summary(compare(a, b, a_name="phi", b_name="70b", a_params=14e9, b_params=70e9, n_resamples=2000))
    assert s is not None and s.startswith("phi (14B) vs 70b (70B, 5x larger) on maj@k: statistically indistinguishable")
    assert size_summary(compare(a, b)) is None


def test_renderers_handle_nothing_compared() -> None:
    c = compare({}, {}, a_name="phi", b_name="70b", tasks=["math"])
    assert "No task could be compared." in render_markdown(c)
    d = json.loads(render_json(c))
    assert d["tasks"] == [] and d["overall"] is None and d["skipped"][0]["missing"] == ["phi", "70b"]
    console = Console(record=True, width=120, color_system=None)
    console.print(render_table(c))
    assert "math: no results for phi, 70b" in console.export_text()
