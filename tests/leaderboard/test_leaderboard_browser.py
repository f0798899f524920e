"""End to end: `harness leaderboard` serves a store holding a real run (the tiny random-weight model
through the `hf` path) and an ingested one; headless Chromium loads every page while another real
`harness run` writes the store, and each page must show its content and no error. Screenshots go to
test-artifacts/leaderboard/.

Needs Debian's chromium (`apt-get install -y chromium`) at /usr/bin/chromium, driven by Playwright's
Python package; no browser is ever downloaded."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from harness.tasks.arith import make_items

from paths import REPO
ARTIFACTS = REPO / "test-artifacts" / "leaderboard"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
HARNESS = [sys.executable, "-c", "from harness.cli.app import main; main()"]
ITEMS = 6

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: install Debian's with "
                       "`apt-get install -y chromium` (the test never downloads a browser)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def harness(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*HARNESS, *args], capture_output=True, text=True, timeout=300, check=True, **kw)


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def leaderboard_page(db: Path, height: int = 1100):
    """A fresh `harness leaderboard` server on `db` and a headless Chromium page 1400 x `height`:
    yields (url, page); the browser is closed and the server stopped however the test ends."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen([*HARNESS, "leaderboard", "--db", str(db), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_healthy(url, server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                yield url, browser.new_page(viewport={"width": 1400, "height": height})
            finally:
                browser.close()
    finally:
        stop(server)


def wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"harness leaderboard exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the leaderboard did not answer within a minute")


@pytest.fixture(scope="module")
def store(tmp_path_factory, tiny_model) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("e2e")
    models = d / "models.toml"
    models.write_text(f'[models.tiny]\nbackend = "hf"\nmodel = "{tiny_model}"\nparams_b = 0.0002\nfamily = "tiny"\n'
                      '[models.tiny.sampling]\nmax_tokens = 16\ntemperature = 1.0\n')
    db = d / "e2e.duckdb"
    harness("run", "--model", "tiny", "--models", str(models), "--task", "arith", "-k", "4", "--limit", str(ITEMS),
            "--db", str(db), "--no-progress")
    lines = [{"model": "big", "task": "arith", "item_id": it.id, "sample": s,
              "response": f"The answer is {it.gold if i else int(it.gold) + 1}"}
             for i, it in enumerate(make_items(ITEMS)) for s in range(4)]
    gens = d / "big.jsonl"
    gens.write_text("".join(json.dumps(x) + "\n" for x in lines))
    harness("ingest", str(gens), "--db", str(db), "--params-b", "70.6", "--family", "llama")
    return db, models


PAGES = [  # path, heading, texts that must be visible
    ("", "Leaderboard", ["Scores with 95% intervals", "the task(s) every listed model has"]),
    ("size", "Small vs large", ["Pareto frontier", "Gain from majority voting", "Compute"]),
    ("compare", "Compare two models", ["tiny maj@k", "big maj@k", "wins"]),
    ("items", "Item explorer", ["Side by side with", "correct samples", "sample 0"]),
    ("queue", "Training queue", ["Nothing is queued for training", "harness teach --model tiny --teacher big"]),
    ("history?model=tiny", "History", ["Runs"]),
    ("loop", "Loop", ["No loop in this store yet"]),
]


def test_every_page_in_chromium_while_a_run_writes(store):
    db, models = store
    writer = None
    try:
        with leaderboard_page(db) as (url, page):
            writer = subprocess.Popen([*HARNESS, "run", "--model", "tiny", "--models", str(models), "--task", "arith",
                                       "-k", "4", "--limit", str(ITEMS), "--seed", "1", "--db", str(db), "--no-progress"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for path, heading, wanted in PAGES:
                page.goto(f"{url}/{path}", wait_until="domcontentloaded")
                page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=90_000)
                if path not in ("queue", "loop"):  # an empty queue or store without loops shows what to run, no table
                    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=90_000)
                for text in wanted:  # a hidden match (a table header) is not the page showing it
                    page.get_by_text(text).filter(visible=True).first.wait_for(timeout=60_000)
                page.wait_for_timeout(500)
                name = (path.split("?")[0] or "leaderboard")
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                main = page.locator("[data-testid=stMain]").inner_text()
                assert page.locator("[data-testid=stException]").count() == 0, (path, main)
                assert page.locator("[data-testid=stAlertContentError]").count() == 0, (path, main)
                assert "Traceback" not in main, path
            # the Leaderboard's numbers are in a canvas grid; the Compare page's are text: check those
            page.goto(f"{url}/compare", wait_until="domcontentloaded")
            page.get_by_text("big maj@k").first.wait_for(timeout=90_000)
            metrics = page.locator("[data-testid=stMetricValue]").all_inner_texts()
            assert metrics[1] == "83.3"  # big: every sample right but on item 0 of 6
        assert writer.wait(timeout=300) == 0, writer.stderr.read() if writer.stderr else ""
    finally:
        stop(writer)
