"""The alerts a trader away from the screen needs, raised by the trading core itself (in-process,
against the simulator): the market feed silent past the threshold and back, the venue
unreachable past it and back (live), collateral below its threshold and back, a burst of venue
refusals, a large fill. Each goes through the core's own hooks (its per-tick watch, the
collateral job, the venue-sync job, the executor's refusal and fill reports) into `alerts`;
tests/trading/test_watch.py covers Watch's own rules."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.domain import Intent, Quote, Side, Tif
from contracts.settings import load_settings
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import paper_venue

pytestmark = pytest.mark.slow
FEED_DOWN_S = 30
PUSD = 1_000_000
WATCH_CODES = {"FEED_DOWN", "VENUE_UNREACHABLE", "LOW_COLLATERAL", "REFUSAL_BURST", "LARGE_FILL"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=47, agents=False) as handle:
        yield handle


class Clock:
    """Wall time plus an offset the test moves forward (the core, its feed and its venue health
    all read it), so "more than 30 s" takes no 30 s."""

    def __init__(self) -> None:
        self.offset = 0

    def __call__(self) -> int:
        return now_ms() + self.offset


def _core(tmp: Path, sim: SimHandle, clock: Clock, *, markets: list[str], mode: str = "paper",
          alerts: dict[str, Any] | None = None) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    now = now_ms()
    with db.write() as conn:
        if markets:  # a strategy on these markets: the feed subscribes their books
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                     updated_by) VALUES ('mm', 'market_making', :p, :m, 1, :t, :t, 'test')"""),
                         {"p": json.dumps({"size": 20, "half_spread": 0.2, "max_spread": 0.9}),
                          "m": json.dumps(markets), "t": now})
        for key, value in {"alert_feed_down_s": FEED_DOWN_S, "paper_mined_after_ms": 0, **(alerts or {})}.items():
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, :t, 'test')"), {"k": key, "v": json.dumps(value), "t": now})
        conn.execute(text("UPDATE engine_state SET mode = :m"), {"m": mode})
    env = {"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port), "TRADER_DB": str(tmp / "t.db")}
    if mode == "live":
        env["POLY_PRIVATE_KEY"] = "0x" + secrets.token_hex(32)
    return TradingCore(load_settings(env), db, clock=clock)


async def _started(core: TradingCore) -> None:
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()  # ticked by hand
    if core.feed.subscribed():
        await _books_fresh(core, core.clock() - 60_000)
    await core.tick()  # the risk gate's first picture of the market


async def _books_fresh(core: TradingCore, since: int) -> None:
    """Every subscribed book updated (or confirmed current) at or after `since`, on the core's clock."""
    for _ in range(200):
        ages = [core.books.updated_ms(t) for t in core.feed.subscribed()]
        if ages and all(a is not None and a >= since for a in ages):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the feed delivered no current books")


async def _applied(core: TradingCore) -> None:
    """The venue's reports applied, as the next tick would (waiting out a write the recorder holds)."""
    paper_venue(core).advance()
    for _ in range(100):
        core.executor.drain()
        if not core.executor.inbox.waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the venue's reports were never applied")


def _alerts(core: TradingCore) -> list[tuple[str, str]]:
    """The watch's alerts (level, code), oldest first; others (CASH_SYNC at a live start…) left out."""
    with core.db.read() as conn:
        found = conn.execute(text("SELECT level, code FROM alerts ORDER BY id")).all()
    return [(level, code) for level, code in found if code.removesuffix("_CLEARED") in WATCH_CODES]


def test_a_silent_feed_is_reported_after_the_threshold_and_again_when_it_delivers(tmp_path: Path,
                                                                                  sim: SimHandle) -> None:
    clock = Clock()
    core = _core(tmp_path, sim, clock, markets=[sim.market(neg_risk=False)["condition_id"]])

    async def scenario() -> None:
        await _started(core)
        await core.feed.close()  # the feed goes silent; its books age
        clock.offset += (FEED_DOWN_S - 5) * 1000
        await core.tick()  # silent for less than the threshold
        assert _alerts(core) == []
        clock.offset += 6 * 1000
        await core.tick()  # silent for the threshold, counted from the last delivery (not twice it)
        assert _alerts(core) == [("warning", "FEED_DOWN")]
        await core.tick()
        assert _alerts(core) == [("warning", "FEED_DOWN")]  # once per episode
        await core.feed.start()  # it reconnects and resyncs every book
        await _books_fresh(core, clock() - 5_000)
        await core.tick()
        await core.stop()

    asyncio.run(scenario())
    assert _alerts(core) == [("warning", "FEED_DOWN"), ("info", "FEED_DOWN_CLEARED")]


def test_an_unreachable_venue_is_reported_after_the_threshold_and_again_when_it_answers(tmp_path: Path,
                                                                                        sim: SimHandle) -> None:
    clock = Clock()
    core = _core(tmp_path, sim, clock, markets=[], mode="live")

    async def scenario() -> None:
        await _started(core)
        assert core.mode == "live"
        sim.set_faults(error_rate=1.0, error_codes="500,502", error_scope="all")
        try:
            await core.scheduled.venue_sync()  # the venue's order list: no answer after the adapter's retries
            await core.tick()
            assert _alerts(core) == []
            clock.offset += (FEED_DOWN_S + 1) * 1000
            await core.tick()
            assert _alerts(core) == [("critical", "VENUE_UNREACHABLE")]
        finally:
            sim.clear_faults()
        await core.scheduled.venue_sync()  # it answers again
        await core.tick()
        await core.stop()

    asyncio.run(scenario())
    assert _alerts(core) == [("critical", "VENUE_UNREACHABLE"), ("info", "VENUE_UNREACHABLE_CLEARED")]


def test_low_collateral_a_burst_of_refusals_and_a_large_fill(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=1)
    cid = market["condition_id"]
    clock = Clock()
    core = _core(tmp_path, sim, clock, markets=[cid],
                 alerts={"alert_low_collateral_usdc": 9_990.0, "alert_refusal_burst": 3, "alert_large_fill_usdc": 5.0})

    async def scenario() -> None:
        await _started(core)
        assert "collateral" in {job.id for job in core.jobs()}  # the scheduler runs it every minute
        await core.scheduled.collateral()  # 10,000 pUSD of paper cash: above the threshold
        assert _alerts(core) == []
        core.executor.state.cash -= 20 * PUSD
        await core.scheduled.collateral()
        await core.scheduled.collateral()
        core.executor.state.cash += 20 * PUSD
        await core.scheduled.collateral()
        assert _alerts(core) == [("warning", "LOW_COLLATERAL"), ("info", "LOW_COLLATERAL_CLEARED")]

        ask = core.books.book(market["yes_token_id"]).best_ask.price
        crossing = Intent("hand", cid, (Quote(Side.BUY, ask, 10 * PUSD, Tif.GTC, True),))  # post-only would cross
        for _ in range(3):
            core.executor.set_intents([crossing])
            await core.executor.reconcile()
            await _applied(core)
        assert [c for _, c in _alerts(core)][2:] == ["REFUSAL_BURST"]

        core.executor.set_intents([Intent("hand", cid, (Quote(Side.BUY, ask, 20 * PUSD, Tif.FAK),))])
        await core.executor.reconcile()  # 20 shares at the ask (above 0.25): over 5 pUSD at once
        await _applied(core)
        await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        large = conn.execute(text("SELECT level, message FROM alerts WHERE code = 'LARGE_FILL'")).all()
    assert [c for _, c in _alerts(core)] == ["LOW_COLLATERAL", "LOW_COLLATERAL_CLEARED", "REFUSAL_BURST", "LARGE_FILL"]
    assert len(large) == 1 and large[0][0] == "warning" and "strategy 'hand' filled" in large[0][1]
