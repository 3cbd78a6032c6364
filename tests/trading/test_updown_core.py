"""The short crypto up/down series in the real trading core against the simulator (paper): the series
job finds the current and the next window on Gamma within seconds and the market maker's filter
takes them; the spot feed (OKX's stream, as the simulator serves it) prices the window that has
opened, so the maker quotes around P(Up) there and stays out of the one that has not; and it stops
quoting the configured seconds before the window closes."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.domain import Side
from contracts.settings import load_settings
from contracts.updown import up_probability, window_of
from engine.trading.core import TradingCore
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
    with approved_simulator(seed=61, agents=False, updown_series="btc-updown-5m") as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, clock: list[int]) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('updown', 'market_making', :p, :m, 1, 0, 0, 'test')"""),
                     {"p": json.dumps(PARAMS), "m": json.dumps({"filter": {"text": "btc-updown-5m"}})})
        for key, value in (("spot_feed", "okx"), ("updown_series", "btc-updown-5m")):
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, 0, 't')"), {"k": key, "v": json.dumps(value)})
        conn.execute(text("INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
                          "VALUES ('max_data_age', '3600', 1, 0, 'test')"))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db, clock=lambda: clock[0])


def _quotes(core: TradingCore, cid: str) -> dict[Side, int]:
    """The maker's working YES-space quotes in `cid` (a NO bid at q is a YES ask at 1 - q)."""
    out = {}
    for order in core.executor.state.orders.values():
        if order.condition_id == cid and order.side is Side.BUY:
            out[Side.BUY if order.outcome.value == "YES" else Side.SELL] = (
                order.price if order.outcome.value == "YES" else 1_000_000 - order.price)
    return out


def test_a_series_window_is_found_priced_from_the_spot_quoted_and_left_before_its_close(tmp_path: Path,
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
        await core.scheduled.series_discovery()  # what the job does every 5 s
        assert set(core.host.hosted["updown"].markets) == {current, following}
        spot = core.link.references.spot
        assert spot is not None and spot.protocol == "okx"
        for _ in range(200):
            if spot.spot("btc") is not None and all(core.books.book(core.catalog.get(c).yes_token)
                                                    for c in (current, following)):
                break
            await asyncio.sleep(0.05)
        latest = spot.spot("btc")
        assert latest is not None, spot.stats
        # As if the desk had listened since before the window opened (the test cannot wait minutes):
        # a flat price from a minute before the start, then what the stream sends from now on.
        heard = [(start * 1000 - 60_000 + k * 1000, latest[0] * (1 + 0.0001 * (k % 2)))
                 for k in range(int((latest[1] - (start * 1000 - 60_000)) // 1000))]
        spot._history["btc"] = deque([*heard, (latest[1], latest[0])], maxlen=spot._history["btc"].maxlen)
        clock[0] = now_ms()
        await core.tick()
        core.executor.drain()
        fair = core.link.references.source.reference(current)
        assert fair is not None
        window = window_of(core.catalog.get(current).slug)
        sigma = spot.volatility("btc", fair[1])
        assert window is not None and sigma is not None
        opening = latest[0]  # in force at the start: the point heard then (k = 60, an even one)
        now_spot = spot.spot("btc")
        assert now_spot is not None and now_spot[1] == fair[1]
        assert abs(fair[0] - up_probability(now_spot[0], opening, window.end_s - fair[1] / 1000, sigma)) <= 1
        quotes = _quotes(core, current)
        assert set(quotes) <= {Side.BUY, Side.SELL} and quotes, "no quote in the open window"
        for side, price in quotes.items():  # 0.03 from P(Up), rounded outward to the tick
            assert (fair[0] - price if side is Side.BUY else price - fair[0]) >= 30_000 - 1
            assert abs(fair[0] - price) < 40_000 + 10_000
        assert _quotes(core, following) == {}  # not open yet: no opening price, no reference
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
