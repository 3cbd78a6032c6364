"""Kalshi's crypto windows priced from the CF Benchmarks index they settle on, against the simulator's
Kalshi side (which serves `cfbenchmarks_value` on its signed WebSocket and lists `KXBTC15M` windows, a
price to beat set as each opens): the desk's feed reads the index as Kalshi relays it (its times, its
lags, `sending_ts_ms` included), the window reference prices P(YES) from it (contracts/venues/kalshi/crypto.py),
and a market maker with `fair_value` "reference" on a paired window quotes around that price, on paper
and with Kalshi armed live."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.order_status import OrderStatus
from contracts.settings import load_settings
from contracts.venues import KALSHI
from contracts.venues.kalshi import ids as kalshi_ids
from contracts.venues.kalshi.crypto import index_of, window_probability, yes_probability
from engine.feeds import price_series
from engine.feeds.books import BookCache
from engine.venues.kalshi.cfbenchmarks import CfBenchmarksFeed
from engine.venues.kalshi.reference import KalshiBookPoller
from engine.venues.kalshi.window_reference import KalshiWindowReference
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database
from tests.kalshi import keypair, register
from tests.kalshi_desk import MM, Desk, until

pytestmark = pytest.mark.slow
SERIES = "KXBTC15M"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=97, agents=False, kalshi_markets=1, kalshi_crypto=SERIES) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _a_few_seconds_of_index_make_a_volatility(monkeypatch: pytest.MonkeyPatch) -> None:
    """The index ticks once a second and no history comes with a subscription: the desk waits for a
    minute of values before it has a volatility. A test does not wait a minute."""
    monkeypatch.setattr(price_series, "MIN_VOLATILITY_SPAN_MS", 2_000)
    monkeypatch.setattr(price_series, "MIN_VOLATILITY_POINTS", 3)


def _window(sim: SimHandle) -> str:
    """The open window (its close moved ten minutes out when it nears: the test must not meet it), its
    price to beat the index's value now: the simulator's index walked for up to fifteen minutes since the
    window opened, by the wall clock's minute, and far from its price to beat the window's P(YES) nears
    0 or 1, where one of a maker's quotes 5 cents either side of it is worth less than the gate's minimum."""
    now = int(time.time() * 1000)

    def pick() -> str:
        kalshi = sim.sim.kalshi
        kalshi.tick()
        ticker = next(t for t in kalshi.windows if kalshi.exchange.markets[t].status == "active")
        market = kalshi.exchange.markets[ticker]
        if market.close_ms - now < 180_000:
            market.close_ms = now + 600_000
        market.floor_strike = round(kalshi.index.indexes[kalshi.windows[ticker]].price, 2)
        return ticker

    return str(sim.call(pick))


def _wide_book(sim: SimHandle, ticker: str) -> None:
    """The house's ladder (around $0.50, where the window opened) taken away for one at $0.02 / $0.98:
    the window's price has moved with the index since, and the maker's quotes must not meet the house."""
    from simulator.kalshi.exchange import HOUSE, Placement

    def wide() -> None:
        ex, now = sim.sim.kalshi.exchange, int(time.time() * 1000)
        ex.close_resting(ticker, now, "test", lambda o: o.account == HOUSE)
        for side, price in (("bid", 20_000), ("ask", 980_000)):
            ex.place(HOUSE, Placement(ticker, side, price, 100 * kalshi_ids.CONTRACT, "good_till_canceled",
                                      "taker_at_cross", post_only=True), now)

    sim.call(wide)


def test_the_index_is_read_as_kalshi_relays_it_and_prices_the_window(sim: SimHandle, tmp_path: Path) -> None:
    ticker = _window(sim)
    assert index_of(ticker) == "BRTI"
    private, public = keypair()
    env = {"TRADER_ENV_FILE": str(tmp_path / "none"), "SIMULATOR_PORT": str(sim.port),
           "KALSHI_API_KEY_ID": register(sim, public), "KALSHI_PRIVATE_KEY": private}
    settings = load_settings(env).kalshi
    assert settings is not None

    async def read() -> tuple[float, int, int | None, int | None]:
        feed = CfBenchmarksFeed(settings, ["BRTI"])
        poller = KalshiBookPoller(settings.host, [ticker], BookCache())
        windows = KalshiWindowReference(feed, poller.markets.get)
        await feed.start()
        try:
            await poller.read_settlements()
            await until(lambda: len(feed.history("BRTI")) >= 4, "four seconds of BRTI", tries=600)
            found = windows.reference(kalshi_ids.market_id(ticker))
            assert found is not None
            value, at = feed.spot("BRTI") or (0.0, 0)
            market = poller.markets[ticker]
            sigma = feed.volatility("BRTI", at)
            assert sigma is not None and market.strike_type == "greater_or_equal" and market.floor_strike
            assert found == (yes_probability("greater_or_equal", market.floor_strike, None, value,
                                             (market.close_ms - at) / 1000, sigma), at)
            lags = feed.lags["BRTI"]
            return value, at, lags.inside_kalshi_ms, lags.transit_ms
        finally:
            await feed.close()
            await poller.close()

    value, at, inside, transit = asyncio.run(read())
    sims = sim.call(lambda: dict(sim.sim.kalshi.index.indexes["BRTI"].ticks))
    assert abs(sims[at] - value) < 0.01  # the value CF Benchmarks stamped at that second, as Kalshi relayed it
    assert inside is not None and inside >= 0 and transit is not None  # read from sending_ts_ms


def test_the_final_minutes_values_count_toward_the_settlement() -> None:
    """Half the final minute averaging 1% over the strike, the index now at the strike: more likely
    than not; the same half 1% under it: less; a known half that already clears a strike below it: sure."""
    sigma = 0.0005  # per square-root second
    assert window_probability(100.0, 100.0, 600, sigma) == pytest.approx(0.5)
    assert window_probability(100.0, 100.0, 30, sigma, (101.0, 30)) > 0.99
    assert window_probability(100.0, 100.0, 30, sigma, (99.0, 30)) < 0.01
    assert window_probability(100.0, 40.0, 30, sigma, (90.0, 30)) == 1.0
    assert window_probability(100.0, 100.0, 0, sigma, (100.5, 60)) == 1.0
    assert yes_probability("less_or_equal", None, 100.0, 100.0, 600, sigma) == 500_000
    assert yes_probability("between", 90.0, 110.0, 100.0, 600, sigma) is None  # not priced: never guessed


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_a_market_maker_on_a_window_quotes_around_the_index_priced_probability(
        sim: SimHandle, tmp_path: Path, mode: str) -> None:
    ticker = _window(sim)
    desk = Desk(tmp_path, sim, ticker=ticker)
    if mode == "live":
        desk.fund({2: "100.00"})  # a crypto window lives on shard 2: its quotes are funded there
    # five contracts: each quote worth the gate's $1 minimum order value on either side of a fair value near 0.5
    maker = {**MM, "fair_value": "reference", "half_spread": 0.05, "size": 5, "max_spread": 1}
    db = Database(desk.db_path)
    with db.write() as conn:
        conn.execute(text("UPDATE strategies SET params = :p WHERE name = 'kx'"), {"p": json.dumps(maker)})
        conn.execute(text("UPDATE venue_modes SET mode = :m WHERE venue = 'kalshi'"), {"m": mode})
    db.dispose()
    _wide_book(sim, ticker)
    core = desk.core()
    cid = kalshi_ids.market_id(ticker)

    async def scenario() -> tuple[list[int], int, int]:
        await core.start(operator=True)
        core.gate.unblock()
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None and ledger.executor.mode == mode
        source = core.link.references.source
        assert source is not None

        def quoting() -> bool:
            ledger.executor.drain()
            return sum(1 for o in ledger.executor.state.orders.values() if o.status is OrderStatus.LIVE) >= 2

        await until(quoting, f"the market maker's {mode} quotes on the window", tries=1200)  # a loaded machine
        reference = source.reference(cid)
        assert reference is not None
        prices = sorted(o.price if o.token_id.endswith(":yes") else kalshi_ids.CONTRACT - o.price
                        for o in ledger.executor.state.orders.values() if o.status is OrderStatus.LIVE)
        resting = desk.resting()  # (a stop cancels them)
        await core.stop()
        return prices, reference[0], resting

    prices, fair, resting = asyncio.run(scenario())
    bid, ask = prices[0], prices[-1]  # the YES bid, and the NO bid as the YES price it asks
    assert bid < fair < ask and abs((bid + ask) // 2 - fair) <= 30_000  # around the CF-priced probability
    assert (resting >= 2) if mode == "live" else (resting == 0)  # at Kalshi only when live
