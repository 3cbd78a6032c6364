"""Cross-venue fair value (engine/venues/kalshi/reference.py): a Polymarket market linked by hand to a
Kalshi market takes that market's mid as its reference price, read from Kalshi's public book through
the desk's own Kalshi client (the simulator's Kalshi side here). In the real trading core (paper) a market maker
with `fair_value: reference` quotes around the Kalshi mid, and value betting with
`fair_source: reference` trades toward it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.domain import MarketView, Side, Snapshot, StrategyState
from contracts.settings import load_settings
from contracts.venues.kalshi import ids as kalshi_ids
from engine.feeds.books import BookCache
from engine.feeds.market_data_events import PairNotBinary, TradePrint
from engine.strategies.value_betting import ValueBetting
from engine.trading.core import TradingCore
from engine.venues.kalshi.reference import KalshiBookPoller, PairedReference
from simulator.testing import SimHandle, approved_simulator
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.kalshi import binary_tickers
from tests.trading.test_updown_core import _quotes

pytestmark = pytest.mark.slow
MM = {"fair_value": "reference", "half_spread": 0.03, "size": 10, "skew_per_share": 0, "max_spread": 1}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=71, agents=False, kalshi_markets=3) as handle:
        yield handle


def _kalshi_mid(sim: SimHandle, ticker: str) -> int:
    """The Kalshi market's mid in micro-units, from the simulator's own book."""
    yes, no = sim.call(lambda: sim.sim.kalshi.exchange.books[ticker].levels())
    return (max(yes) + kalshi_ids.CONTRACT - max(no)) // 2


class Fixed:
    """A reference source for the markets without a pair."""

    def reference(self, condition_id: str) -> tuple[int, int] | None:
        return (123_000, 1) if condition_id == "unpaired" else None

    def history(self, condition_id: str) -> tuple[tuple[int, int], ...]:
        return ((1, 123_000),) if condition_id == "unpaired" else ()


def test_a_paired_market_takes_the_kalshi_mid_the_right_way_round(sim: SimHandle) -> None:
    tickers = binary_tickers(sim)
    host = f"{sim.clob_host}/trade-api/v2"
    books = BookCache()
    pairs = {"straight": (tickers[0], False), "inverted": (tickers[1], True), "gone": ("KXNOPE-1", False)}
    poller = KalshiBookPoller(host, [t for t, _ in pairs.values()], books)
    paired = PairedReference(pairs, books, Fixed())
    read = asyncio.run(poller.poll_once())
    # KXNOPE-1's status cannot be read, so its book is not even asked for: one failure, not two.
    assert read == 2 and poller.failures == 1 and "KXNOPE-1" in (poller.last_error or "")
    yes = books.book(kalshi_ids.token_id(tickers[0], "yes"))
    no = books.book(kalshi_ids.token_id(tickers[0], "no"))
    assert yes is not None and no is not None and yes.mid == kalshi_ids.CONTRACT - (no.mid or 0)  # one book, both ways
    straight, inverted = paired.reference("straight"), paired.reference("inverted")
    assert straight is not None and inverted is not None
    assert straight[0] == _kalshi_mid(sim, tickers[0])
    assert inverted[0] == kalshi_ids.CONTRACT - _kalshi_mid(sim, tickers[1])
    assert paired.reference("gone") is None  # no book read: no price, never a guess
    assert paired.reference("unpaired") == (123_000, 1)  # the other source answers for the rest
    assert paired.history("straight")[-1][1] == straight[0]
    # A trade on Kalshi after the poller started is told once, as a print of the YES token (what
    # the recorder records); the book it moved is read with it.
    prints: list[TradePrint] = []
    books.add_listener(lambda e: prints.append(e) if isinstance(e, TradePrint) else None)
    yes_levels, no_levels = sim.call(lambda: sim.sim.kalshi.exchange.books[tickers[0]].levels())
    ask = kalshi_ids.CONTRACT - max(no_levels)
    sim.call(lambda: sim.sim.kalshi.exchange.house_take(tickers[0], "bid", ask, 3 * kalshi_ids.CONTRACT, now_ms()))
    asyncio.run(poller.poll_once())
    asyncio.run(poller.poll_once())  # the same trade is not told twice
    token = kalshi_ids.token_id(tickers[0], "yes")
    assert [(p.token_id, p.price, p.size, p.side) for p in prints] == [(token, ask, 3 * kalshi_ids.CONTRACT, Side.BUY)]


def test_a_paired_market_that_is_not_binary_never_has_its_book_read(sim: SimHandle) -> None:
    """A pair stored before pairing refused scalar markets: the poller's first status read, before any
    book, finds it; it is told once as such and its book is never put in the cache (so no reference
    price comes from a YES that pays a value), while the binary pair beside it is read as before."""
    tickers = binary_tickers(sim)
    scalar, binary = tickers[2], tickers[0]
    host = f"{sim.clob_host}/trade-api/v2"
    books = BookCache()
    told: list[PairNotBinary] = []
    books.add_listener(lambda e: told.append(e) if isinstance(e, PairNotBinary) else None)
    poller = KalshiBookPoller(host, [scalar, binary], books)
    paired = PairedReference({"scalar": (scalar, False), "binary": (binary, False)}, books)

    def market_type(kind: str) -> None:
        sim.call(lambda: setattr(sim.sim.kalshi.exchange.markets[scalar], "market_type", kind))

    market_type("scalar")
    try:
        read = [asyncio.run(poller.poll_once()) for _ in range(3)]
    finally:
        market_type("binary")
    assert read == [1, 1, 1] and poller.not_binary == {scalar: "scalar"}
    assert [(e.condition_id, e.market_type) for e in told] == [(kalshi_ids.market_id(scalar), "scalar")]
    assert books.book(kalshi_ids.token_id(scalar, "yes")) is None and paired.reference("scalar") is None
    assert paired.reference("binary") is not None


def test_a_paired_market_given_a_settlement_floor_is_told_as_not_binary(sim: SimHandle) -> None:
    """Kalshi's settlement floors (its Settlement Bounds page) pay YES holders part of a scalar payout
    before settlement: the desk's ledger and reference price assume $1 or nothing at the end, so such a
    market is told as not binary, as a scalar one is, and its book is never read."""
    floored = binary_tickers(sim)[1]
    books = BookCache()
    told: list[PairNotBinary] = []
    books.add_listener(lambda e: told.append(e) if isinstance(e, PairNotBinary) else None)
    poller = KalshiBookPoller(f"{sim.clob_host}/trade-api/v2", [floored], books)

    def bounds(kind: str) -> None:
        sim.call(lambda: setattr(sim.sim.kalshi.exchange.markets[floored], "settlement_bounds", kind))

    bounds("floor")
    try:
        read = asyncio.run(poller.poll_once())
    finally:
        bounds("default")
    assert read == 0 and [e.market_type for e in told] == ["binary with a settlement floor (settlement_bounds_type)"]
    assert books.book(kalshi_ids.token_id(floored, "yes")) is None


def _core(tmp: Path, sim: SimHandle, condition_id: str, ticker: str) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('mm', 'market_making', :p, :m, 1, 0, 0, 'test')"""),
                     {"p": json.dumps(MM), "m": json.dumps([condition_id])})
    add_pair(db, condition_id=condition_id, kalshi_ticker=ticker, inverted=False, polymarket_question="q",
             kalshi_title="t", warnings=[], actor="test")
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db)


def test_the_market_maker_quotes_around_the_paired_kalshi_mid(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False)
    cid = market["condition_id"]
    ticker = binary_tickers(sim)[2]
    mid = _kalshi_mid(sim, ticker)
    sim.clear_book(cid)  # Polymarket's book 0.05 either side of Kalshi's mid: quotes 0.03 away rest inside it
    sim.place_liquidity(market["yes_token_id"], "BUY", f"{(mid - 50_000) / 1e6:.2f}", "500")
    sim.place_liquidity(market["yes_token_id"], "SELL", f"{(mid + 50_000) / 1e6:.2f}", "500")
    core = _core(tmp_path, sim, cid, ticker)

    async def scenario() -> dict[Side, int]:
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()  # ticked by hand
        paired = core.link.references.paired
        assert paired is not None and paired.pairs == {cid: (ticker, False)}
        assert core.link.references.poller is not None and core.link.references.poller.tickers == [ticker]
        for _ in range(200):
            if core.books.book(core.catalog.get(cid).yes_token) and paired.reference(cid):
                break
            await asyncio.sleep(0.05)
        await core.tick()
        core.executor.drain()
        quotes = _quotes(core, cid)
        await core.stop()
        return quotes

    quotes = asyncio.run(scenario())
    assert set(quotes) == {Side.BUY, Side.SELL}
    assert mid - 40_000 <= quotes[Side.BUY] <= mid - 30_000  # 0.03 from the Kalshi mid, outward to the tick
    assert mid + 30_000 <= quotes[Side.SELL] <= mid + 40_000
    assert core.link.references.poller is None or core.link.references.poller._task is None  # closed with the feeds


def test_value_betting_trades_toward_the_reference_only_when_told_to() -> None:
    from contracts.domain import Book, Level, MarketInfo

    info = MarketInfo("c1", "?", "Y", "N", tick=10_000, min_size=5_000_000)
    book = Book("Y", (Level(480_000, 100_000_000),), (Level(500_000, 100_000_000),), 0)
    view = MarketView(info, book, book.mirrored("N"), fair_value=None, reference=600_000, reference_at=0)
    state = StrategyState("vb", cash=1_000_000_000)
    [by_reference] = ValueBetting("vb", {"fair_source": "reference"}).decide(Snapshot(0, {"c1": view}), state, 0)
    assert [(q.side, q.price) for q in by_reference.quotes] == [(Side.BUY, 500_000)]  # 0.60 vs an ask of 0.50
    assert by_reference.probability == 600_000  # its forecast is the price it traded toward
    [by_signal] = ValueBetting("vb", {}).decide(Snapshot(0, {"c1": view}), state, 0)
    assert by_signal.quotes == () and by_signal.reason == "no fair value"
    [no_reference] = ValueBetting("vb", {"fair_source": "reference"}).decide(
        Snapshot(0, {"c1": MarketView(info, book, None, fair_value=700_000)}), state, 0)
    assert no_reference.quotes == () and no_reference.reason == "no reference price"
