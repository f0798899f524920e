"""The loop's paired statistics against hand-computable cases."""

from __future__ import annotations

import pytest

from harness.loop.measure import per_seed, pooled


def test_per_seed_is_paired_on_items():
    a = [1, 1, 1, 1, 0, 0, 1, 1, 1, 1] * 4
    b = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1] * 4
    g = per_seed(a, b)
    assert g.after == pytest.approx(0.8) and g.before == pytest.approx(0.4) and g.diff == pytest.approx(0.4)
    assert g.ci_low > 0 and g.p_value < 0.001  # McNemar: 16 discordant items, all one way


def test_identical_arms_show_no_difference():
    a = {0: [1, 0, 1, 0] * 10, 1: [0, 1, 0, 1] * 10}
    g = pooled(a, a)
    assert g.diff == 0 and g.p_value == 1.0 and g.seeds == 2


def test_pooled_averages_each_item_over_seeds_and_reports_the_spread():
    a = {0: [1] * 20 + [0] * 20, 1: [1] * 30 + [0] * 10, 2: [1] * 25 + [0] * 15}
    base = [1] * 10 + [0] * 30
    g = pooled(a, base)
    assert g.after == pytest.approx(0.625) and g.before == pytest.approx(0.25)
    assert g.diff == pytest.approx(0.375) and g.ci_low > 0 and g.p_value < 0.01
    assert g.spread == pytest.approx(0.125)  # stdev of 0.5, 0.75, 0.625
    assert g.n_items == 40
