"""`harness compare` on a terminal shows every number whole at any width: intervals on one line,
tables split (the leading columns repeated) or stacked where one does not fit, nothing cut with
an ellipsis; columns with nothing to show (no thinking, no price, nothing unpaired) left out."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.console import Console

from harness.analysis.compare import compare
from harness.analysis.compare_render import _budget_rows, _rows, render_table
from test_compare_core import known_pair

A, B = "demo-small-sft", "demo-large"


def _with_tokens(outcomes: dict, tokens: int, thinking: int | None = None) -> dict:
    return {k: replace(o, n=4, n_correct=2, n_unfinished=0, prompt_tokens=40, completion_tokens=tokens,
                       thinking_tokens=thinking) for k, o in outcomes.items()}


@pytest.fixture(scope="module")
def plain():
    a, b = known_pair()
    a2, b2 = known_pair("wordmath_variants", n=100, both=60, a_only=10, b_only=5, seed=1)
    a, b = {**a, **a2}, {**b, **b2}
    return compare(_with_tokens(a, 108), _with_tokens(b, 120), a_name=A, b_name=B, a_params=5.9e5,
                   b_params=1.1e6, n_resamples=500)


def shown(c, width: int, items: bool = False) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(render_table(c, include_items=items, item_limit=5, width=width))
    return console.export_text()


@pytest.mark.parametrize("width", [80, 60, 120, 200])
def test_every_number_whole_at_any_width(plain, width: int) -> None:
    text = shown(plain, width, items=True)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    flat = text.splitlines()
    for row in _rows(plain) + _budget_rows(plain):
        for cell in row[1:]:
            if cell.strip("—") and cell not in ("0/0", "0 (0.0%)"):  # those columns say nothing: left out
                assert any(cell in line for line in flat), (width, cell)


def test_eighty_columns_splits_the_table_keeping_the_task(plain) -> None:
    text = shown(plain, 80)
    assert "(1/2)" in text and "(2/2)" in text
    assert "60.0 [55.6, 64.2]" in text and "-10.0 [" in text
    parts = text.split("(2/2)")
    assert "wordmath_variants" in parts[0] and "wordmath_variants" in parts[1]  # the task starts every row


def test_a_wide_terminal_gets_one_table(plain) -> None:
    assert "(1/2)" not in shown(plain, 200)


def test_columns_with_nothing_to_show_are_left_out(plain) -> None:
    text = shown(plain, 200)
    assert "thinking" not in text and "cost" not in text and "unpaired" not in text and "unfinished" not in text
    assert "tokens per sample" in text
    a, b = known_pair()
    thinking = compare(_with_tokens(a, 100, thinking=60), _with_tokens(b, 100, thinking=20), a_name=A, b_name=B,
                       n_resamples=200)
    assert "thinking %" in shown(thinking, 200)
