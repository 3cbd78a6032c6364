"""A third venue is its packages plus a registry line each (contracts/venues/__init__.py `register`,
engine/venues/registry.py `register`): once a stub venue is registered, ids with its prefix are its own,
the operator's `set_venue_mode` accepts it, its mode is a row of venue_modes, the arming gate builds its
checklist, the status report says it, and its paper venue applies its adapter's rules, with no other
line naming it."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts import venues
from contracts.venues import DESK_VENUE, POLICIES, VenueName, venue_of
from contracts.venues.kalshi.policy import POLICY as KALSHI_POLICY
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.venues import registry
from engine.venues.kalshi.adapter import ADAPTER as KALSHI_ADAPTER
from engine.venues.kalshi.paper_rules import KalshiPaper
from engine.venues.paper import PaperVenue
from storage.command_queue.command_payloads import PayloadError, parse
from storage.desk import arming, desk_status
from storage.engine_stores import venue_modes
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

STUB = VenueName("stubx")


@pytest.fixture
def stub_venue() -> Iterator[VenueName]:
    """A stub venue registered as a third venue would be (its rules on paper borrowed: it is a stub)."""
    venues.register(dataclasses.replace(KALSHI_POLICY, venue=STUB, label="Stubx", market_prefix="stubx:",
                                        site="stubx.example", paired=False, preflight="", arming=None,
                                        replay_order_prefix="bt-stubx-"))
    registry.register(STUB, dataclasses.replace(KALSHI_ADAPTER, reachable=lambda settings: True,
                                                armable=lambda settings: False, arm_needs="its keys"))
    try:
        yield STUB
    finally:
        registry.unregister(STUB)
        venues.unregister(STUB)


def test_a_registered_venue_owns_its_ids_and_its_mode_command(stub_venue: VenueName) -> None:
    assert venue_of("stubx:M1") == stub_venue and venue_of("kalshi:KX-1") == "kalshi" and venue_of("0xab") == DESK_VENUE
    assert parse("set_venue_mode", {"venue": stub_venue, "mode": "live"})["venue"] == stub_venue
    with pytest.raises(PayloadError, match="must be one of"):
        parse("set_venue_mode", {"venue": DESK_VENUE, "mode": "live"})  # the desk's own is set_mode's


def test_a_registered_venue_is_armed_by_its_own_row_and_said_in_the_status(stub_venue: VenueName,
                                                                          tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    migrate(path)
    db = Database(path)
    with db.write() as conn:
        venue_modes.set_mode(conn, stub_venue, "live")
    db.dispose()
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        status = desk_status.engine_status(conn, path)
        report = desk_status.status_report(conn, path)
        gate = arming.venue_gate(conn, stub_venue, arming.engine_reads(conn, stub_venue, up=True), 0)
    assert status.mode_of(stub_venue) == "live" and status.mode_of("kalshi") == "paper"
    assert report[f"{stub_venue}_mode"] == "live" and f"{stub_venue}_live" in report
    checks = {check.name: check for check in gate.checks}
    assert not checks["a promoted strategy"].ok  # none names its markets
    assert any("no preflight exists" in check.fix for check in gate.checks)


def test_a_registered_venues_paper_venue_applies_its_adapters_rules(stub_venue: VenueName, tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    migrate(path)
    paper = PaperVenue(Database(path), BookCache(), MarketCatalog(), venue_name=stub_venue)
    assert isinstance(paper.rules, KalshiPaper)


def test_a_venue_is_registered_once_under_a_prefix_of_its_own(stub_venue: VenueName) -> None:
    with pytest.raises(venues.VenueClash):
        venues.register(dataclasses.replace(POLICIES[stub_venue], venue=VenueName("stuby")))  # the same prefix
    with pytest.raises(venues.VenueClash):
        venues.unregister(VenueName("kalshi"))  # built in
