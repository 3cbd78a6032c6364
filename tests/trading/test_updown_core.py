"""The short crypto up/down series in the real trading core against the simulator (paper): the series
job finds the current and the next window on Gamma within seconds and the market maker's filter
takes them; the window that has opened is priced on the Chainlink averages it settles on (the venue's
real-time data socket, as the simulator serves it), against the price to beat Gamma publishes, so
the maker quotes around P(Up) there and stays out of the one that has not; it stops quoting the
configured seconds before the window closes. A window the desk joins long after it opened (its start
heard by no stream) is priced all the same, on Gamma's price to beat, where before it was skipped."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.domain import Side
from contracts.settings import load_settings
from contracts.updown import TWAP_S, average_probability, window_of
from engine.trading.core import TradingCore
from engine.venues.polymarket.chainlink import ChainlinkFeed
from engine.venues.polymarket.updown_series import PolymarketUpDown
from simulator.rtds import DUMP_S
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import wait_until
from tests.trading.test_strategy_limits_core import _rows

pytestmark = pytest.mark.slow

PARAMS = {"fair_value": "reference", "half_spread": 0.03, "size": 10, "skew_per_share": 0, "max_spread": 1,
          "stop_before_end_s": 30}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=61, agents=False, updown_series="btc-updown-5m,btc-updown-15m") as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, clock: list[int], series: str = "btc-updown-5m") -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('updown', 'market_making', :p, :m, 1, 0, 0, 'test')"""),
                     {"p": json.dumps(PARAMS), "m": json.dumps({"filter": {"text": series}})})
        for key, value in (("spot_feed", "okx"), ("updown_series", series)):
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, 0, 't')"), {"k": key, "v": json.dumps(value)})
        conn.execute(text("INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
                          "VALUES ('max_data_age', '3600', 1, 0, 'test')"))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db, clock=lambda: clock[0])


def _on(fair: int, quotes: dict[Side, int]) -> bool:
    """Both quotes 0.03 from `fair`, rounded outward to the tick (less than 0.04 + a tick of 0.01)."""
    return bool(quotes) and all(
        30_000 - 1 <= (fair - price if side is Side.BUY else price - fair) < 40_000 + 10_000
        for side, price in quotes.items())


def _quotes(core: TradingCore, cid: str) -> dict[Side, int]:
    """The maker's working YES-space quotes in `cid` (a NO bid at q is a YES ask at 1 - q)."""
    out = {}
    for order in core.executor.state.orders.values():
        if order.condition_id == cid and order.side is Side.BUY:
            out[Side.BUY if order.outcome.value == "YES" else Side.SELL] = (
                order.price if order.outcome.value == "YES" else 1_000_000 - order.price)
    return out


async def _chainlink_heard(core: TradingCore, minimum_span_ms: int = 70_000) -> ChainlinkFeed:
    """The core's Chainlink feed once it has a report and the first dump's minute of prices (a volatility)."""
    for _ in range(400):
        series = core.link.references.series
        assert isinstance(series, PolymarketUpDown)  # the desk venue's series
        feed = series.chainlink
        if feed is not None and feed.age_ms("btc") is not None:
            points = feed.history("btc")
            if points[-1][0] - points[0][0] >= minimum_span_ms:
                return feed
        await asyncio.sleep(0.05)
    raise AssertionError("no Chainlink prices heard")


def _window_row(core: TradingCore, cid: str) -> list[tuple[Any, ...]]:
    return _rows(core, "SELECT priced_by, price_to_beat, beat_from FROM updown_windows WHERE condition_id = ?", cid)


def test_a_series_window_is_found_priced_on_chainlink_quoted_and_left_before_its_close(tmp_path: Path,
                                                                                        sim: SimHandle) -> None:
    if (time.time() // 300 + 1) * 300 - time.time() < 40:  # too near a window's close to quote in it:
        wait_until(lambda: (time.time() // 300 + 1) * 300 - time.time() > 290, 60, 0.2, what="the next window")
    start = int(time.time()) // 300 * 300
    wait_until(lambda: f"btc-updown-5m-{start + 300}" in {m.slug for m in list(sim.sim.exchange.markets.values())},
               10, 0.1, what="the next window listed")
    by_slug = {m.slug: m.condition_id for m in list(sim.sim.exchange.markets.values())}
    current, following = by_slug[f"btc-updown-5m-{start}"], by_slug[f"btc-updown-5m-{start + 300}"]
    clock = [now_ms()]
    core = _core(tmp_path, sim, clock)

    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()  # ticked by hand
        feed = await _chainlink_heard(core)
        while time.time() - start < 4:  # Gamma publishes the price to beat two seconds after the start
            await asyncio.sleep(0.1)
        await core.scheduled.series_discovery()  # what the job does every 5 s
        assert set(core.host.hosted["updown"].markets) == {current, following}
        for _ in range(200):
            if all(core.books.book(core.catalog.get(c).yes_token) for c in (current, following)):
                break
            await asyncio.sleep(0.05)
        # A tick no Chainlink report fell inside, with the last tick's replacements through (on a loaded
        # machine a replaced quote can still be working when the tick ends): the quotes are on the fair read here.
        for _ in range(40):
            clock[0] = now_ms()
            before = core.link.references.source.reference(current)
            await core.tick()
            core.executor.drain()
            fair = core.link.references.source.reference(current)
            if fair == before and fair is not None and _on(fair[0], _quotes(core, current)):
                break
            await asyncio.sleep(0.2)
        assert fair is not None
        window = window_of(core.catalog.get(current).slug)
        latest = feed.spot("btc")
        sigma = feed.volatility("btc", fair[1])
        assert window is not None and sigma is not None and latest is not None and latest[1] == fair[1]
        beat = round(sim.sim.updown.openings[current], 8)  # Gamma's price to beat: Chainlink's average then
        left = window.end_s - fair[1] / 1000
        so_far = feed.average("btc", (window.end_s - TWAP_S) * 1000, fair[1], 5_000) if left < TWAP_S else None
        expected = average_probability(latest[0], beat, left, sigma, so_far)  # what settles the window
        assert expected is not None and abs(fair[0] - expected) <= 1
        assert _window_row(core, current) == [("chainlink", round(beat * 1e6), "gamma")]
        quotes = _quotes(core, current)
        assert set(quotes) <= {Side.BUY, Side.SELL} and quotes, "no quote in the open window"
        for side, price in quotes.items():  # 0.03 from P(Up), rounded outward to the tick
            assert (fair[0] - price if side is Side.BUY else price - fair[0]) >= 30_000 - 1
            assert abs(fair[0] - price) < 40_000 + 10_000
        assert _quotes(core, following) == {}  # not open yet: no price to beat, no reference
        clock[0] = window.end_s * 1000 - 20_000  # 20 s before the close: inside the 30 s
        await core.tick()
        core.executor.drain()
        assert _quotes(core, current) == {}
        await core.stop()

    asyncio.run(scenario())
    reasons = dict(_rows(core, "SELECT condition_id, reason FROM decisions WHERE action = 'note' "
                               "AND reason = 'REGIME_CLOSING'"))
    assert current in reasons
    [(why,)] = _rows(core, "SELECT detail FROM decisions WHERE reason = 'REGIME_CLOSING' AND condition_id = ?",
                     current)
    assert "closing: the market ends in 20 s, quoting stopped 30 s before" in why


# Waits on the wall clock for a window open long enough (up to ~3 min, no CPU): collected first
# (`runs_long`), so its wait overlaps the rest of a parallel run instead of ending it.
@pytest.mark.runs_long
def test_a_window_joined_long_after_it_opened_is_priced_on_gammas_price_to_beat(tmp_path: Path,
                                                                               sim: SimHandle) -> None:
    """The 15-minute window has been open longer than any stream's memory reaches back (the socket's
    first dump is two minutes): nothing the desk hears says what its start's price was, and only
    Gamma's price to beat prices it."""
    age = time.time() % 900
    if not DUMP_S + 10 < age < 900 - 60:  # its start inside the dump, or too near its close
        wait_until(lambda: DUMP_S + 10 < time.time() % 900 < 900 - 60, 200, 0.5, what="a window open long enough")
    start = int(time.time()) // 900 * 900
    current = next(m.condition_id for m in list(sim.sim.exchange.markets.values())
                   if m.slug == f"btc-updown-15m-{start}")
    clock = [now_ms()]
    core = _core(tmp_path, sim, clock, series="btc-updown-15m")

    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()
        feed = await _chainlink_heard(core)
        assert feed.at("btc", start * 1000, 5_000) is None  # its start heard by nobody
        await core.scheduled.series_discovery()
        for _ in range(200):  # its book heard
            if core.books.book(core.catalog.get(current).yes_token):
                break
            await asyncio.sleep(0.05)
        clock[0] = now_ms()
        await core.tick()
        core.executor.drain()
        fair = core.link.references.source.reference(current)
        assert fair is not None, "a window joined late was not priced"
        assert _window_row(core, current)[0][0::2] == ("chainlink", "gamma")
        assert _quotes(core, current), "no quote in the window joined late"
        await core.stop()

    asyncio.run(scenario())
