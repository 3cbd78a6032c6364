"""Per-strategy limits in the real trading core against the simulator (paper): a stop loss and a
take profit fire on a scripted price path (decision, audit, alert, the strategy's own ask
withdrawn, a fill-and-kill sell, then the cooldown), an exit that cannot sell backs off, alerts
once and says when it clears, one strategy hits its own daily loss while another keeps trading,
and orders past their strategy's max age are cancelled and quoted afresh."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
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
from tests.clocks import ShiftedClock
from tests.helpers import paper_venue

pytestmark = pytest.mark.slow
MM = {"size": 20, "half_spread": 0.02, "max_spread": 0.5}
SLIPPAGE = "0.03"  # the max-slippage limit exits sell at (not the default, so the test sees it is read)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=41, agents=False) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, strategies: dict[str, tuple[list[str], dict[str, str]]],
          global_limits: dict[str, str] | None = None, clock: Callable[[], int] = now_ms) -> TradingCore:
    """Market makers, each on the given markets and with the given limits of its own."""
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    now = now_ms()
    with db.write() as conn:
        for name, (markets, limits) in strategies.items():
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                     updated_by) VALUES (:n, 'market_making', :p, :m, 1, :t, :t, 'test')"""),
                         {"n": name, "p": json.dumps(MM), "m": json.dumps(markets), "t": now})
            for key, value in limits.items():
                conn.execute(text("""INSERT INTO strategy_limits (strategy, name, value, updated_at, updated_by)
                                     VALUES (:s, :k, :v, :t, 'test')"""), {"s": name, "k": key, "v": value, "t": now})
        for key, value in (global_limits or {}).items():
            conn.execute(text("""INSERT INTO risk_limits (name, value, version, updated_at, updated_by)
                                 VALUES (:k, :v, 1, :t, 'test')"""), {"k": key, "v": value, "t": now})
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('paper_mined_after_ms', '0', 1, 0, 't')"))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db, clock=clock)


async def _started(core: TradingCore) -> None:
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()  # ticked by hand
    await _books(core, lambda: True)
    await core.tick()  # the risk gate's first picture of the market


async def _books(core: TradingCore, ready: Any) -> None:
    for _ in range(200):
        if all(core.books.book(core.catalog.get(c).yes_token) for c in core.host.markets()) and ready():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("books never arrived")


def _scripted_book(sim: SimHandle, market: dict[str, Any], bid: str, ask: str) -> None:
    sim.clear_book(market["condition_id"])
    sim.place_liquidity(market["yes_token_id"], "BUY", bid, "500")
    sim.place_liquidity(market["yes_token_id"], "SELL", ask, "500")


async def _hold(core: TradingCore, strategy: str, cid: str, size: int = 20_000_000) -> int:
    """A settled YES position for `strategy`, bought with a take at the ask; returns its price."""
    ask = core.books.book(core.catalog.get(cid).yes_token).best_ask.price
    core.executor.set_intents([Intent(strategy, cid, (Quote(Side.BUY, ask, size, Tif.FAK),))])
    await core.executor.reconcile()
    paper_venue(core).advance()
    core.executor.drain()
    return ask


async def _mid_is(core: TradingCore, token: str, mid: int) -> None:
    await _books(core, lambda: (b := core.books.book(token)) is not None and b.mid == mid)


def _rows(core: TradingCore, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with core.db.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql, args)]


def test_a_stop_loss_sells_records_and_cools_down(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=1)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.48", "0.52")
    core = _core(tmp_path, sim, {"mm": ([cid], {"stop_loss_move": "0.05", "exit_cooldown": "600"})},
                 {"max_slippage": SLIPPAGE})

    async def scenario() -> None:
        await _started(core)
        entry = await _hold(core, "mm", cid)
        assert entry == 520_000 and core.executor.state.totals("mm", yes).sellable == 20_000_000
        await core.tick()  # it quotes an ask on the 20 shares it holds: at the venue that reserves them
        assert any(o.side is Side.SELL for o in core.executor.state.orders.values())
        # Mid 0.465: 0.055 below the entry (the ask 0.49 stays above its 0.48 bid: it buys no more).
        _scripted_book(sim, market, "0.44", "0.49")
        await _mid_is(core, yes, 465_000)
        await core.tick()
        paper_venue(core).advance()
        core.executor.drain()
        assert core.executor.state.totals("mm", yes).size == 0  # sold into the 0.44 bid
        await core.tick()  # in its cooldown: no new buy in that market
        await core.stop()

    asyncio.run(scenario())
    # The market maker's own ask on those 20 shares was withdrawn before the exit sold them (at the
    # venue it reserves them: a sale over it is refused) and never placed again during the exit.
    asks = _rows(core, "SELECT status, updated_at FROM orders WHERE strategy = 'mm' AND side = 'SELL' "
                       "AND tif = 'GTC'")
    sold_at = _rows(core, "SELECT created_at FROM orders WHERE reason = 'stop_loss'")[0][0]
    assert asks and all(status == "CANCELED" and at <= sold_at for status, at in asks), asks
    exits = _rows(core, "SELECT side, tif, status, price FROM orders WHERE reason = 'stop_loss'")
    assert exits == [("SELL", "FAK", "FILLED", 435_000)]  # the flatten path's cap: mid 0.465 less 0.03
    reasons = {r[0] for r in _rows(core, "SELECT reason FROM decisions WHERE strategy = 'mm'")}
    assert {"STOP_LOSS", "EXIT_COOLDOWN"} <= reasons
    assert _rows(core, "SELECT action FROM audit_log WHERE action LIKE 'exit.%'") == [("exit.stop_loss",)]
    assert ("STOP_LOSS",) in _rows(core, "SELECT code FROM alerts")


class _Clock:
    """The core's clock, moved by hand: the exit's back-off is measured on it."""

    def __init__(self) -> None:
        self.now = now_ms()

    def __call__(self) -> int:
        return self.now


def test_an_exit_that_cannot_sell_backs_off_alerts_once_and_says_when_it_clears(tmp_path: Path,
                                                                                 sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=0)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.48", "0.52")
    clock = _Clock()
    core = _core(tmp_path, sim, {"mm": ([cid], {"stop_loss_move": "0.05"})},
                 {"max_slippage": SLIPPAGE, "max_data_age": "3600"}, clock=clock)

    async def ticks(seconds: int) -> None:
        for _ in range(seconds):
            clock.now += 1_000
            await core.tick()
            paper_venue(core).advance()
            core.executor.drain()

    async def scenario() -> tuple[int, int]:
        await _started(core)
        await core.tick()  # the market maker quotes
        await _hold(core, "mm", cid)
        await ticks(1)  # settled; its ask now rests on them
        _scripted_book(sim, market, "0.30", "0.46")  # mid 0.38: the floor 0.35 is above every bid
        await _mid_is(core, yes, 380_000)  # (the drop may fill its bid too: it holds more)
        started, held = clock.now, core.executor.state.totals("mm", yes).size
        await ticks(30)
        assert core.executor.state.totals("mm", yes).size == held >= 20_000_000  # nothing could be sold
        mm_orders = _rows(core, "SELECT COUNT(*) FROM orders WHERE strategy = 'mm' AND reason != 'stop_loss' "
                                "AND created_at > ?", started)[0][0]
        _scripted_book(sim, market, "0.40", "0.46")  # bids come back above the floor (mid 0.43, floor 0.40)
        await _mid_is(core, yes, 430_000)
        await ticks(40)  # within the back-off's longest wait
        await core.stop()
        return mm_orders, started

    mm_orders, started = asyncio.run(scenario())
    attempts = _rows(core, "SELECT status, created_at - ? FROM orders WHERE reason = 'stop_loss' ORDER BY id",
                     started)
    # Tried at once, then 5, 10 and 20 s later (not every pass, not every 5 s): the fourth, once
    # the bids were back, sold.
    assert [status for status, _ in attempts] == ["REJECTED"] * 3 + ["FILLED"], attempts
    assert [b[1] - a[1] for a, b in zip(attempts, attempts[1:], strict=False)] == [5_000, 10_000, 20_000]
    assert mm_orders == 0  # the strategy stayed out of the market while its exit could not sell
    alerts = _rows(core, "SELECT code, message FROM alerts WHERE code IN ('STOP_LOSS', 'EXIT_CLEARED') ORDER BY id")
    assert [code for code, _ in alerts] == ["STOP_LOSS", "EXIT_CLEARED"], alerts
    assert "not sold" in alerts[0][1] and "growing back-off" in alerts[0][1]
    assert "the position is sold" in alerts[1][1]
    assert _rows(core, "SELECT COUNT(*) FROM audit_log WHERE action = 'exit.stop_loss'") == [(1,)]


def test_a_take_profit_fires_on_pnl(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=2)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.48", "0.52")
    core = _core(tmp_path, sim, {"mm": ([cid], {"take_profit_pnl": "1"})}, {"max_slippage": SLIPPAGE})

    async def scenario() -> None:
        await _started(core)
        await _hold(core, "mm", cid)
        _scripted_book(sim, market, "0.56", "0.58")  # mid 0.57: +0.05 on 20 shares is +1.00 pUSD
        await _mid_is(core, yes, 570_000)
        await core.tick()
        await core.stop()

    asyncio.run(scenario())
    assert _rows(core, "SELECT side, tif, price FROM orders WHERE reason = 'take_profit'") == [
        ("SELL", "FAK", 540_000)]  # mid 0.57 less the 0.03 cap
    assert ("TAKE_PROFIT",) in _rows(core, "SELECT code FROM alerts")


def test_one_strategys_daily_loss_leaves_the_other_trading(tmp_path: Path, sim: SimHandle) -> None:
    losing, steady = sim.market(neg_risk=False, index=3), sim.market(neg_risk=False, index=4)
    for m in (losing, steady):
        _scripted_book(sim, m, "0.48", "0.52")
    core = _core(tmp_path, sim, {"loser": ([losing["condition_id"]], {"max_daily_loss": "1"}),
                                 "other": ([steady["condition_id"]], {"max_daily_loss": "100"})})

    async def scenario() -> None:
        await _started(core)
        await core.tick()
        await _hold(core, "loser", losing["condition_id"])
        _scripted_book(sim, losing, "0.43", "0.45")  # mid 0.44: 20 shares bought at 0.52 lose 1.60
        await _mid_is(core, losing["yes_token_id"], 440_000)
        await core.tick()  # the breaker sees the loss
        placed_before = _rows(core, "SELECT COUNT(*) FROM orders WHERE strategy = 'other'")[0][0]
        _scripted_book(sim, steady, "0.40", "0.42")  # the other market moves: its quotes follow
        await _mid_is(core, steady["yes_token_id"], 410_000)
        await core.tick()
        assert _rows(core, "SELECT COUNT(*) FROM orders WHERE strategy = 'other'")[0][0] > placed_before
        await core.stop()

    asyncio.run(scenario())
    states = dict(_rows(core, "SELECT strategy, trading_state FROM strategy_risk"))
    assert states == {"loser": "REDUCING", "other": "ACTIVE"}
    assert _rows(core, "SELECT trading_state FROM engine_state") == [("ACTIVE",)]  # the desk itself trades on
    assert ("STRATEGY_REDUCING",) in _rows(core, "SELECT reason FROM decisions WHERE strategy = 'loser'")
    assert ("STRATEGY_DAILY_LOSS",) in _rows(core, "SELECT code FROM alerts")
    buys = _rows(core, "SELECT COUNT(*) FROM orders WHERE strategy = 'loser' AND side = 'BUY' AND tif = 'GTC' "
                       "AND outcome = 'YES' AND status = 'LIVE'")
    assert buys == [(0,)]  # no new risk for the loser


def test_orders_past_their_max_age_are_cancelled_and_quoted_afresh(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=5)
    _scripted_book(sim, market, "0.48", "0.52")
    clock = ShiftedClock()  # the orders age on the core's clock, moved past the max age by hand
    core = _core(tmp_path, sim, {"mm": ([market["condition_id"]], {"max_order_age": "1"})}, clock=clock)

    async def scenario() -> None:
        await _started(core)
        await core.tick()
        first = set(core.executor.state.orders)
        assert first
        await core.scheduled.order_age()
        assert set(core.executor.state.orders) == first  # younger than the max age: kept
        clock.advance(1.2)
        await core.scheduled.order_age()
        core.executor.drain()
        assert not first & set(core.executor.state.orders)
        await core.tick()
        assert core.executor.state.orders  # the strategy quoted afresh
        await core.stop()

    asyncio.run(scenario())
    assert ("ORDER_AGE",) in _rows(core, "SELECT reason FROM decisions")
    assert _rows(core, "SELECT action FROM audit_log WHERE action = 'exit.order_age'") == [("exit.order_age",)]
