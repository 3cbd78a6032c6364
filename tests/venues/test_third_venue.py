"""A third venue is its packages plus a registry line each (contracts/venues/__init__.py `register`,
engine/venues/registry.py `register`): once a stub venue is registered, ids with its prefix are its own,
the operator's `set_venue_mode` accepts it, its mode is a row of venue_modes, the arming gate builds its
checklist, the status report says it, its paper venue applies its adapter's rules, and a strategy naming
its market trades it on paper through the desk's normal pass (its books and market from the feed its
adapter names, the stub's side of the exchange here in the process), with no other line naming it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts import venues
from contracts.domain import MICRO, MarketInfo
from contracts.settings import load_settings
from contracts.venue_policies import venue_named, venues_armed_alone
from contracts.venues import DESK_VENUE, POLICIES, VenueName, desk_venue, venue_of
from contracts.venues.kalshi.policy import POLICY as KALSHI_POLICY
from contracts.venues.polymarket.policy import POLICY as POLYMARKET_POLICY
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.trading.core import TradingCore
from engine.venues import registry
from engine.venues.adapter import FeedParts
from engine.venues.kalshi.adapter import ADAPTER as KALSHI_ADAPTER
from engine.venues.kalshi.paper_rules import KalshiPaper
from engine.venues.market_data import BookFeed, MarketData, MarketDataParts
from engine.venues.paper import PaperVenue
from storage.command_queue.command_payloads import PayloadError, parse
from storage.desk import arming, desk_status
from storage.engine_stores import venue_modes
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

STUB = VenueName("stubx")
MARKET = "stubx:M1"
CENT = MICRO // 100


class StubExchange:
    """The stub venue's side of the exchange: one binary market and its YES book, which the test moves
    (a stub has no venue documentation for the simulator to follow, so it stays in the process)."""

    def __init__(self) -> None:
        self.yes_bid, self.yes_ask = 40 * CENT, 42 * CENT
        self.feeds: list[StubFeed] = []

    def move(self, bid: int, ask: int) -> None:
        self.yes_bid, self.yes_ask = bid, ask
        for feed in self.feeds:
            feed.publish()


class StubFeed:
    """The stub adapter's own feed (engine/venues/adapter.py `VenueFeed`): its market into the catalog and
    its books into the desk's book cache, as a venue's stream would write them."""

    def __init__(self, exchange: StubExchange, parts: FeedParts) -> None:
        self.exchange, self.parts, self.started = exchange, parts, 0
        exchange.feeds.append(self)

    async def start(self) -> None:
        self.started += 1
        self.parts.catalog.add(MarketInfo(condition_id=MARKET, question="Stub?", yes_token=f"{MARKET}:yes",
                                          no_token=f"{MARKET}:no", tick=CENT, min_size=MICRO // 100))
        self.publish()

    def publish(self) -> None:
        bid, ask, size, now = self.exchange.yes_bid, self.exchange.yes_ask, 500 * MICRO, self.parts.clock()
        self.parts.books.apply_snapshot(f"{MARKET}:yes", [(bid, size)], [(ask, size)], now)
        self.parts.books.apply_snapshot(f"{MARKET}:no", [(MICRO - ask, size)], [(MICRO - bid, size)], now)

    async def close(self) -> None:
        self.exchange.feeds.remove(self)


@pytest.fixture
def exchange() -> StubExchange:
    return StubExchange()


@pytest.fixture
def stub_venue(exchange: StubExchange) -> Iterator[VenueName]:
    """A stub venue registered as a third venue would be (its rules on paper borrowed: it is a stub)."""
    venues.register(dataclasses.replace(KALSHI_POLICY, venue=STUB, label="Stubx", market_prefix="stubx:",
                                        site="stubx.example", paired=False, preflight="", arming=None,
                                        replay_order_prefix="bt-stubx-"))
    registry.register(STUB, dataclasses.replace(KALSHI_ADAPTER, reachable=lambda settings: True,
                                                armable=lambda settings: False, arm_needs="its keys",
                                                feed=lambda parts: StubFeed(exchange, parts)))
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


MM = {"fair_value": "mid", "half_spread": 0.03, "size": 10, "skew_per_share": 0, "max_spread": 1}


def _desk(tmp: Path, port: int, market: str = MARKET) -> TradingCore:
    """A paper desk with one market maker naming the stub's market; the desk's built-in venue is a port on
    127.0.0.1 nothing answers on (the stub's market is all it trades)."""
    path = tmp / "t.db"
    migrate(path)
    db = Database(path)
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('sx', 'market_making', :p, :m, 1, 0, 0, 'test')"""),
                     {"p": json.dumps(MM), "m": json.dumps([market])})
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('tick_interval_ms', '60000', 1, 0, 'test')"))  # no timed pass but the test's
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(port),
                              "TRADER_DB": str(path)})
    return TradingCore(settings, db)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 held by a socket that never listens: a connection there is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def _rows(core: TradingCore, sql: str) -> list[tuple]:
    with core.db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


def test_a_strategy_on_a_registered_venue_trades_it_on_paper_through_the_normal_pass(
        stub_venue: VenueName, exchange: StubExchange, closed_port: int, tmp_path: Path) -> None:
    core = _desk(tmp_path, closed_port)

    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()  # passes by hand
        ledger = core.ledgers.get(stub_venue)
        assert ledger is not None and ledger.live and ledger.strategies == {"sx"}
        assert core.ledgers.desk.strategies == set()
        for _ in range(20):  # the market maker quotes its market through the pass
            await core.tick()
            ledger.executor.drain()
            if any(o.side.name == "BUY" for o in ledger.executor.state.orders.values()):
                break
        bids = [o for o in ledger.executor.state.orders.values() if o.side.name == "BUY"]
        assert bids and all(o.condition_id == MARKET for o in bids)
        exchange.move(bids[0].price - 2 * CENT, bids[0].price)  # an ask comes down onto the desk's bid
        for _ in range(20):
            await core.tick()
            ledger.executor.drain()
            if _rows(core, "SELECT 1 FROM fills"):
                break
        await core.stop()

    asyncio.run(scenario())
    orders = _rows(core, "SELECT DISTINCT venue, mode, strategy FROM orders")
    assert orders == [(stub_venue, "paper", "sx")]  # nothing of it reached the desk's own venue
    fills = _rows(core, "SELECT venue, mode, strategy, token_id, side FROM fills")
    assert fills and set(fills) == {(stub_venue, "paper", "sx", f"{MARKET}:yes", "BUY")}
    positions = _rows(core, f"SELECT venue, mode, settled FROM positions WHERE token_id = '{MARKET}:yes'")
    assert positions and positions[0][:2] == (stub_venue, "paper") and positions[0][2] > 0


# -- a stub venue as the desk's own venue -----------------------------------------------------------------------

DESK_STUB = VenueName("stubd")
DESK_MARKET = "stubd:M1"


class StubChannel:
    """The stub desk venue's channel (engine/venues/market_data.py `BookFeed`): the books of the tokens the desk
    subscribes to, as the exchange has them, into the desk's book cache."""

    def __init__(self, exchange: StubExchange, parts: MarketDataParts) -> None:
        self.exchange, self.parts, self.tokens = exchange, parts, set[str]()
        exchange.feeds.append(self)  # type: ignore[arg-type]  # it publishes as a StubFeed does

    async def start(self) -> None:
        self.publish()

    def subscribe(self, token_ids: Any) -> None:
        self.tokens |= set(token_ids)
        self.publish()

    def unsubscribe(self, token_ids: Any) -> None:
        self.tokens -= set(token_ids)

    def subscribed(self) -> set[str]:
        return set(self.tokens)

    def frozen_since(self) -> int | None:
        return None

    def publish(self) -> None:
        bid, ask, size, now = self.exchange.yes_bid, self.exchange.yes_ask, 500 * MICRO, self.parts.clock()
        books = {f"{DESK_MARKET}:yes": ([(bid, size)], [(ask, size)]),
                 f"{DESK_MARKET}:no": ([(MICRO - ask, size)], [(MICRO - bid, size)])}
        for token in self.tokens & set(books):
            self.parts.books.apply_snapshot(token, *books[token], now)

    async def close(self) -> None:
        self.exchange.feeds.remove(self)  # type: ignore[arg-type]  # it publishes as a StubFeed does


class StubMarketData(MarketData):
    """The stub desk venue's market data: its listing (its one market) and its channel; nothing else (the base
    class's answers: no fees to read, no programs, resolutions, series or wallets)."""

    def __init__(self, exchange: StubExchange, parts: MarketDataParts) -> None:
        super().__init__(parts)
        self.exchange, self.listed = exchange, 0

    def feed(self) -> BookFeed:
        return StubChannel(self.exchange, self.parts)

    def refresh_job(self, traded: Callable[[], Iterable[str]]) -> Callable[[], Awaitable[Any]]:
        async def listing() -> None:
            self.listed += 1
            self.parts.catalog.add(MarketInfo(condition_id=DESK_MARKET, question="Stub desk?",
                                              yes_token=f"{DESK_MARKET}:yes", no_token=f"{DESK_MARKET}:no",
                                              tick=CENT, min_size=MICRO // 100))

        return listing


@pytest.fixture
def desk_stub(exchange: StubExchange) -> Iterator[VenueName]:
    """A stub venue registered as the desk's own venue, with its folders' parts only: a policy taking the desk's
    role (its books over the desk's channel) and an adapter whose market data is its own."""
    venues.register(dataclasses.replace(KALSHI_POLICY, venue=DESK_STUB, label="Stubd", market_prefix="stubd:",
                                        site="stubd.example", desk=True, paired=False, desk_feed=True,
                                        preflight="", arming=None, replay_order_prefix="bt-stubd-"))
    registry.register(DESK_STUB, dataclasses.replace(KALSHI_ADAPTER, reachable=lambda settings: True,
                                                     armable=lambda settings: False, arm_needs="its keys", pairs=None,
                                                     services=(), market_data=lambda parts: StubMarketData(exchange,
                                                                                                           parts)))
    try:
        yield DESK_STUB
    finally:
        registry.unregister(DESK_STUB)
        venues.unregister(DESK_STUB)
    assert desk_venue() == POLYMARKET_POLICY.venue  # the role goes back to the built-in desk venue


def test_a_registered_desk_venue_takes_the_desks_role_and_gives_it_back(desk_stub: VenueName) -> None:
    assert desk_venue() == desk_stub and venue_of(DESK_MARKET) == desk_stub
    assert venue_of("0xab") == POLYMARKET_POLICY.venue  # unprefixed ids stay the unprefixed venue's
    assert venue_named('["stubd:M1"]') == desk_stub and venue_named("[]") == desk_stub  # no market: the desk's
    apart = {policy.venue for policy in venues_armed_alone()}
    assert desk_stub not in apart and POLYMARKET_POLICY.venue in apart  # the built-in one is armed on its own now
    with pytest.raises(PayloadError, match="must be one of"):
        parse("set_venue_mode", {"venue": desk_stub, "mode": "live"})  # the desk's own is set_mode's


def test_a_desk_venue_trades_through_its_own_market_data_and_the_desks_ledger(
        desk_stub: VenueName, exchange: StubExchange, closed_port: int, tmp_path: Path) -> None:
    core = _desk(tmp_path, closed_port, DESK_MARKET)

    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()  # passes by hand
        desk = core.ledgers.desk
        assert desk.venue_name == desk_stub and core.ledgers.open == {}  # no other ledger: the desk's trades it
        data = core.link.market_data
        assert isinstance(data, StubMarketData) and data.listed >= 1  # its listing, not the built-in venue's
        assert isinstance(core.link.feed, StubChannel)
        assert core.link.feed.subscribed() == {f"{DESK_MARKET}:yes", f"{DESK_MARKET}:no"}
        for _ in range(20):  # the market maker quotes the desk venue's market through the desk's pass
            await core.tick()
            desk.executor.drain()
            if any(o.side.name == "BUY" for o in desk.executor.state.orders.values()):
                break
        bids = [o for o in desk.executor.state.orders.values() if o.side.name == "BUY"]
        assert bids and all(o.condition_id == DESK_MARKET for o in bids)
        exchange.move(bids[0].price - 2 * CENT, bids[0].price)  # an ask comes down onto the desk's bid
        for _ in range(20):
            await core.tick()
            desk.executor.drain()
            if _rows(core, "SELECT 1 FROM fills"):
                break
        await core.stop()

    asyncio.run(scenario())
    assert _rows(core, "SELECT DISTINCT venue, mode, strategy FROM orders") == [(desk_stub, "paper", "sx")]
    fills = _rows(core, "SELECT venue, mode, strategy, token_id, side FROM fills")
    assert fills and set(fills) == {(desk_stub, "paper", "sx", f"{DESK_MARKET}:yes", "BUY")}
    with sqlite3.connect(core.db.path) as conn:  # the desk's mode is the desk venue's, as every surface says
        conn.row_factory = sqlite3.Row
        status = desk_status.engine_status(conn, core.db.path)
    assert status.mode_of(desk_stub) == status.mode == "paper"
