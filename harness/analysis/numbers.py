"""How numbers read, in one place for the CLI, the story and the leaderboard's pages: a score or a
difference rounds once, here, so 36.2 in a headline is 36.2 in every table (the pages hand Streamlit
these already-rounded values; its own formatting rounds halves differently)."""

from __future__ import annotations

import math


def points(x: float | None) -> float | None:
    """A fraction as percentage points rounded to one decimal, exactly as `pct` prints it."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return float(f"{100 * x:.1f}")


def pct(x: float) -> str:
    """0.3625 -> '36.2' (the rounding every surface shares)."""
    return f"{100 * x:.1f}"


def signed_pct(x: float) -> str:
    """A difference in points with its sign: -0.229 -> '-22.9'."""
    return f"{100 * x:+.1f}"


def size(params_b: float | None) -> str:
    """A parameter count given in billions, in the unit that reads: 0.000585 -> '0.59M', 1.1 -> '1.1B',
    70.6 -> '70.6B'; '' when unknown."""
    if params_b is None or (isinstance(params_b, float) and math.isnan(params_b)) or params_b <= 0:
        return ""
    if params_b >= 1:
        return f"{params_b:.3g}B"
    return f"{params_b * 1e3:.3g}M" if params_b >= 0.001 else f"{params_b * 1e3:.2g}M"
