"""The nightly pages in headless Chromium: History shows each domain's trajectory across nights
with the phase labels and flags the domain that fell while another was tuned; Nightly shows a
night's verdicts. The store holds three real nights (tests/nightly_seed.py)."""

from __future__ import annotations

import pytest

from nightly_seed import seed_nights
from test_leaderboard_browser import ARTIFACTS, CHROMIUM, leaderboard_page

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: install Debian's with "
                       "`apt-get install -y chromium` (the test never downloads a browser)"),
]


def test_domain_history_with_phases_and_the_nightly_page_in_chromium(tmp_path):
    db = seed_nights(tmp_path / "nights.duckdb")
    with leaderboard_page(db, height=1800) as (url, page):
        page.goto(f"{url}/history?model=phi", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Domains across nights").wait_for(timeout=90_000)
        page.locator("[data-testid=stTable]").first.wait_for(timeout=60_000)
        table = page.locator("[data-testid=stTable]").first.inner_text()
        for label in ("baseline", "math SFT round 2", "code round 1", "phi-night-3"):
            assert label in table, table
        flag = page.get_by_text("fell -50.0 points on night phi-night-2 while math was being tuned")
        flag.wait_for(timeout=30_000)
        assert "domain logic" in flag.inner_text()
        assert page.locator("[data-testid=stVegaLiteChart]").count() >= 2  # the task chart and the domains'
        page.screenshot(path=str(ARTIFACTS / "history-domains.png"), full_page=True)
        main = page.locator("[data-testid=stMain]").inner_text()
        assert page.locator("[data-testid=stException]").count() == 0, main
        assert "fell" not in main.split("phi-night-2 while math")[1], "only one domain fell while another was tuned"

        page.goto(f"{url}/nightly?night=phi-night-2", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Night phi-night-2: regressed").wait_for(timeout=90_000)
        verdicts = page.locator("[data-testid=stTable]").first.inner_text()
        assert "logic" in verdicts and "regressed" in verdicts and "-50" in verdicts
        assert "phase: math SFT round 2 · tuning math" in page.locator("[data-testid=stMain]").inner_text()
        page.screenshot(path=str(ARTIFACTS / "nightly.png"), full_page=True)
        assert page.locator("[data-testid=stException]").count() == 0
