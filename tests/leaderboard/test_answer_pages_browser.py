"""The answer pages in headless Chromium on a fresh `harness leaderboard` server: the first URL it
serves is a deep link to item 1200 of a 1,205-item task (beyond the picker's first 1,000), which
must open that item with its LaTeX rendered by KaTeX, the answer marked and the thinking folded, in
the app's own navigation. (Compare, side by side and the queue are checked through AppTest in
test_answer_pages.py.) The screenshot goes to test-artifacts/leaderboard/."""

from __future__ import annotations

import pytest

from leaderboard_seed import LONG_ITEMS, LONG_THINKING, seed_long_store
from test_leaderboard_browser import ARTIFACTS, CHROMIUM, leaderboard_page

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: install Debian's with "
                       "`apt-get install -y chromium` (the test never downloads a browser)"),
]


def no_error(page, where: str) -> None:
    main = page.locator("[data-testid=stMain]").inner_text()
    assert page.locator("[data-testid=stException]").count() == 0, (where, main)
    assert page.locator("[data-testid=stAlertContentError]").count() == 0, (where, main)


def test_a_deep_link_beyond_item_1000_on_a_fresh_server(tmp_path):
    db = seed_long_store(tmp_path / "long.duckdb")
    with leaderboard_page(db, height=1100) as (url, page):
        page.goto(f"{url}/items?task=arith_long&model=phi&item=1200", wait_until="domcontentloaded")
        page.get_by_role("heading", name="arith_long / item 1200").wait_for(timeout=90_000)
        gold = LONG_ITEMS[1200].gold
        page.get_by_text(f"the answer is {gold}").first.wait_for(timeout=30_000)
        assert page.locator("[data-testid=stMain] .katex").count() >= 1  # $x = gold$ through KaTeX
        assert page.locator("[data-testid=stMain] .katex-error").count() == 0
        page.get_by_text("thinking (3 tokens)").first.click()
        page.get_by_text(LONG_THINKING).first.wait_for(timeout=30_000)
        nav = page.locator("[data-testid=stSidebarNav]").inner_text()
        assert "Training queue" in nav and "items.py" not in nav  # the app's navigation, not file names
        assert "item=1200" in page.url
        page.screenshot(path=str(ARTIFACTS / "item-1200.png"), full_page=True)
        no_error(page, "items")
