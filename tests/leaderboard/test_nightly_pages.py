"""The Nightly page and History's domain section through Streamlit's AppTest (fast; the browser
test checks the same pages in Chromium)."""

from __future__ import annotations

import pytest

from harness.leaderboard import nights
from harness.store import Store
from nightly_seed import seed_nights
from test_leaderboard_pages import app, texts


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    return seed_nights(tmp_path_factory.mktemp("nights") / "n.duckdb")


def test_nightly_page_on_a_store_without_nights_says_what_to_do(tmp_path, monkeypatch):
    db = tmp_path / "empty.duckdb"
    Store(db).schema_version()
    at = app(db, monkeypatch, "nightly")
    assert "harness nightly --config nightly.toml" in texts(at)


def test_nightly_page_shows_the_chosen_night(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "nightly", night="phi-night-2")
    assert at.selectbox[0].value == "phi-night-2"
    assert any("Night phi-night-2: regressed" in h.value for h in at.subheader)
    table = at.table[0].value
    logic = table[(table["scope"] == "domain") & (table["name"] == "logic")].iloc[0]
    assert logic["status"] == "regressed" and logic["diff"] == pytest.approx(-50.0) and logic["fell"] == 6


def test_history_flags_the_domain_that_fell_while_another_was_tuned(seeded, monkeypatch):
    at = app(seeded, monkeypatch, "history", model="phi")
    flags = [w.value for w in at.warning]
    assert flags == ["phi: domain logic fell -50.0 points on night phi-night-2 while math was being tuned "
                     "(phase: math SFT round 2)"]
    phases = at.table[0].value
    assert phases["phase"].tolist() == ["baseline", "math SFT round 2", "code round 1"]


def test_domain_trajectory_flags_only_falls_outside_the_tuned_domain(seeded):
    checks = Store(seeded, read_only=True)
    with checks.connect() as con:
        from harness.store import queries

        df = queries.night_checks(con)
    traj = nights.domain_trajectory(df, "phi")
    assert traj.groupby("night_no")["domain"].apply(list).tolist() == [["logic", "math"]] * 3
    fell = traj[traj["fell_while_tuning"].notna()]
    assert fell[["night_id", "domain", "fell_while_tuning"]].values.tolist() == [["phi-night-2", "logic", "math"]]
    assert nights.domain_trajectory(df, "nobody").empty
