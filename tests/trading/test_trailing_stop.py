"""Trailing stops in the real trading core against the simulator (paper, a real SQLite file): a
strategy's trailing stop follows the best bid up and never down, fires once when the bid crosses it
and sells through the exits' path; it never fires (nor moves) on a stale or one-sided book; its
high-water mark survives a restart; the manual ticket's trailing stop sells what the manual book
holds, no lower than the floor the operator gave, and is cancelled by its command."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.command_refusal import CommandRejected
from contracts.settings import load_settings
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.clocks import ShiftedClock
from tests.helpers import paper_venue
from tests.trading.test_strategy_limits_core import SLIPPAGE, _hold, _rows, _scripted_book

pytestmark = pytest.mark.slow
SH = 1_000_000
# Accumulate that never buys (its cap is under every price): a strategy holding what the test buys for it,
# placing nothing of its own, so only its exits trade.
IDLE = {"outcome": "YES", "target_shares": 100, "size": 10, "interval_s": 1, "price_cap": 0.01}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=53, agents=False) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, markets: list[str], limits: dict[str, str],
          clock: Callable[[], int] = now_ms, fresh: bool = True) -> TradingCore:
    path = tmp / "t.db"
    if fresh:
        migrate(path)
    db = Database(path)
    now = now_ms()
    if fresh:
        with db.write() as conn:
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                     updated_by) VALUES ('acc', 'accumulate', :p, :m, 1, :t, :t, 'test')"""),
                         {"p": json.dumps(IDLE), "m": json.dumps(markets), "t": now})
            for key, value in limits.items():
                conn.execute(text("""INSERT INTO strategy_limits (strategy, name, value, updated_at, updated_by)
                                     VALUES ('acc', :k, :v, :t, 'test')"""), {"k": key, "v": value, "t": now})
            for key, value in (("max_slippage", SLIPPAGE), ("max_data_age", "10")):
                conn.execute(text("""INSERT INTO risk_limits (name, value, version, updated_at, updated_by)
                                     VALUES (:k, :v, 1, :t, 'test')"""), {"k": key, "v": value, "t": now})
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES ('paper_mined_after_ms', '0', 1, 0, 't')"))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(path)})
    return TradingCore(settings, db, clock=clock)


async def _start(core: TradingCore, token: str) -> None:
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()  # ticked by hand
    await _bid_is(core, token, None)
    await core.tick()


async def _bid_is(core: TradingCore, token: str, bid: int | None, ask: int | None = None) -> None:
    """Until the engine's book of `token` shows this best bid (None: any book) and, given, this best ask."""
    for _ in range(300):
        book = core.books.book(token)
        if book is not None and (bid is None or (book.best_bid is not None and book.best_bid.price == bid)) and (
                ask is None or (book.best_ask is not None and book.best_ask.price == ask)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the book of {token} never showed bid {bid}")


async def _tick(core: TradingCore, times: int = 1) -> None:
    for _ in range(times):
        await core.tick()
        paper_venue(core).advance()
        core.executor.drain()


def _trail(core: TradingCore) -> list[tuple[Any, ...]]:
    return _rows(core, "SELECT strategy, high_water, distance, status FROM trailing_stops ORDER BY id")


def _sales(core: TradingCore) -> list[tuple[Any, ...]]:
    return _rows(core, "SELECT side, tif, price, size, filled, status FROM orders WHERE reason = 'trailing_stop' "
                       "ORDER BY id")


def test_a_strategys_trail_follows_the_bid_up_never_down_and_sells_once(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=0)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.48", "0.52")
    core = _core(tmp_path, sim, [cid], {"trailing_stop": "0.05", "exit_cooldown": "600"})
    seen: list[list[tuple[Any, ...]]] = []

    async def to(bid: str, ask: str) -> None:
        _scripted_book(sim, market, bid, ask)
        await _bid_is(core, yes, round(float(bid) * SH), round(float(ask) * SH))
        await _tick(core)
        seen.append(_trail(core))

    async def scenario() -> None:
        await _start(core, yes)
        await _hold(core, "acc", cid)  # 20 YES at the 0.52 ask
        await _tick(core)  # settled; the trail starts at the best bid
        seen.append(_trail(core))
        await to("0.55", "0.57")  # up: the mark follows
        await to("0.52", "0.54")  # down, not crossed: the mark stays at its high
        assert _sales(core) == []
        await to("0.50", "0.53")  # 0.05 under the high: it fires and sells into the bids
        await to("0.60", "0.62")
        await to("0.40", "0.45")  # nothing held any more: nothing is sold again
        await core.stop()

    asyncio.run(scenario())
    assert [rows[0][1] for rows in seen[:3]] == [480_000, 550_000, 550_000], seen  # up, never down
    assert seen[0][0][0] == "acc" and seen[0][0][2] == 50_000
    # One fill-and-kill, at the mid less the max slippage (0.515 - 0.03, on the grid), filled at the 0.50 bid.
    assert _sales(core) == [("SELL", "FAK", 490_000, 20 * SH, 20 * SH, "FILLED")]
    assert core.executor.state.totals("acc", yes).size == 0
    assert seen[-1] == [("acc", 550_000, 50_000, "DONE")]
    assert _rows(core, "SELECT status, trigger_bid FROM trailing_stops") == [("DONE", 500_000)]
    assert _rows(core, "SELECT action FROM audit_log WHERE action LIKE 'exit.%'") == [("exit.trailing_stop",)]
    assert ("TRAILING_STOP",) in _rows(core, "SELECT code FROM alerts")
    assert ("TRAILING_STOP",) in _rows(core, "SELECT reason FROM decisions WHERE strategy = 'acc'")


def test_a_trail_never_fires_nor_moves_on_a_stale_or_one_sided_book(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=1)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.48", "0.52")
    clock = ShiftedClock()
    core = _core(tmp_path, sim, [cid], {"trailing_stop": "0.05"}, clock=clock)

    async def scenario() -> None:
        await _start(core, yes)
        await _hold(core, "acc", cid)
        await _tick(core)
        assert _trail(core) == [("acc", 480_000, 50_000, "ACTIVE")]
        # One-sided: bids only, far below the stop (0.43): no two-sided book, no sale, no move.
        sim.clear_book(cid)
        sim.place_liquidity(yes, "BUY", "0.40", "500")
        await _bid_is(core, yes, 400_000)
        await _tick(core, 3)
        assert _sales(core) == [] and _trail(core) == [("acc", 480_000, 50_000, "ACTIVE")]
        # Two-sided, higher than the mark, and crossing afterwards, but stale (older than the 10 s max data
        # age by the engine's clock): neither moves it nor fires it.
        _scripted_book(sim, market, "0.60", "0.62")
        await _bid_is(core, yes, 600_000, 620_000)
        clock.advance(11)
        await _tick(core, 3)
        assert _sales(core) == [] and _trail(core) == [("acc", 480_000, 50_000, "ACTIVE")]
        # Fresh and two-sided again, crossed: it fires.
        _scripted_book(sim, market, "0.42", "0.46")
        await _bid_is(core, yes, 420_000, 460_000)
        await _tick(core, 2)
        await core.stop()

    asyncio.run(scenario())
    assert _sales(core) == [("SELL", "FAK", 410_000, 20 * SH, 20 * SH, "FILLED")]  # mid 0.44 less 0.03
    assert _rows(core, "SELECT status, trigger_bid FROM trailing_stops") == [("DONE", 420_000)]


def test_a_trails_high_water_mark_survives_a_restart(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=2)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.48", "0.52")
    first = _core(tmp_path, sim, [cid], {"trailing_stop": "0.05"})

    async def before() -> None:
        await _start(first, yes)
        await _hold(first, "acc", cid)
        await _tick(first)
        _scripted_book(sim, market, "0.58", "0.60")
        await _bid_is(first, yes, 580_000, 600_000)
        await _tick(first)
        await first.stop()  # (or a crash: the mark was written when it rose)

    asyncio.run(before())
    first.db.dispose()
    assert _trail(first) == [("acc", 580_000, 50_000, "ACTIVE")]
    # Restarted below the high but above its stop (0.53): started afresh it would trail from 0.54 and not sell
    # at 0.53; it goes on from its mark, so 0.53 fires it.
    _scripted_book(sim, market, "0.54", "0.56")
    second = _core(tmp_path, sim, [cid], {}, fresh=False)

    async def after() -> None:
        await _start(second, yes)
        await _tick(second)
        assert _trail(second) == [("acc", 580_000, 50_000, "ACTIVE")] and _sales(second) == []
        _scripted_book(sim, market, "0.53", "0.56")
        await _bid_is(second, yes, 530_000, 560_000)
        await _tick(second, 2)
        await second.stop()

    asyncio.run(after())
    assert [row[-1] for row in _sales(second)] == ["FILLED"]
    assert _rows(second, "SELECT COUNT(*), MIN(status) FROM trailing_stops") == [(1, "DONE")]


def test_a_manual_trailing_stop_sells_no_lower_than_its_floor_and_is_cancelled(tmp_path: Path,
                                                                               sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=3)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.48", "0.52")
    clock = ShiftedClock()
    core = _core(tmp_path, sim, [cid], {}, clock=clock)

    async def scenario() -> dict[str, Any]:
        await _start(core, yes)
        bought = await core.operator.place_order({"condition_id": cid, "outcome": "YES", "side": "BUY", "size": 40,
                                                  "price": 0.52, "tif": "FAK"})
        assert bought["orders"][0]["status"] in ("MATCHED", "FILLED", "LIVE", "PENDING_SUBMIT"), bought
        await _tick(core)
        assert core.executor.state.totals("manual", yes).sellable == 40 * SH
        with pytest.raises(CommandRejected, match="above where it fires"):
            await core.operator.place_order({"condition_id": cid, "outcome": "YES", "side": "SELL",
                                             "trail": "0.04", "floor": "0.45"})
        with pytest.raises(CommandRejected, match="holds 40 settled shares"):
            await core.operator.place_order({"condition_id": cid, "outcome": "YES", "trail": "0.04", "size": 50})
        with pytest.raises(CommandRejected, match="leave 10 shares held, below the market's minimum order of 15"):
            await core.operator.place_order({"condition_id": cid, "outcome": "YES", "trail": "0.04", "size": 30})
        placed = await core.operator.place_order({"condition_id": cid, "outcome": "YES", "side": "SELL",
                                                  "trail": "0.04", "floor": "0.44", "size": 20})
        assert (placed["high_water"], placed["stop"], placed["floor"]) == ("0.48", "0.44", "0.44")
        with pytest.raises(CommandRejected, match="already guards it"):
            await core.operator.place_order({"condition_id": cid, "outcome": "YES", "trail": "0.02"})
        # Crossed with the bids all under its floor: it fires, and sells nothing below 0.44.
        _scripted_book(sim, market, "0.40", "0.43")
        await _bid_is(core, yes, 400_000, 430_000)
        await _tick(core, 2)
        assert core.executor.state.totals("manual", yes).size == 40 * SH
        # Bids back at the floor: it sells its 20 there, and leaves the other 20 held.
        _scripted_book(sim, market, "0.44", "0.46")
        await _bid_is(core, yes, 440_000, 460_000)
        clock.advance(6)  # the exits' back-off: its next attempt is due 5 s after the first
        await _tick(core, 2)
        # A second one on the 20 left, cancelled by its command.
        again = await core.operator.place_order({"condition_id": cid, "outcome": "YES", "side": "SELL",
                                                 "trail": "0.02"})
        cancelled = await core.operator.cancel_trailing_stop({"trail_id": again["trailing_stop"]})
        _scripted_book(sim, market, "0.30", "0.34")
        await _bid_is(core, yes, 300_000, 340_000)
        await _tick(core, 2)
        await core.stop()
        return cancelled

    cancelled = asyncio.run(scenario())
    assert cancelled["cancelled"] is True
    sales = _sales(core)
    assert sales and all(price >= 440_000 for _, _, price, *_ in sales), sales  # never below the floor
    assert sum(filled for *_, filled, _ in sales) == 20 * SH
    assert core.executor.state.totals("manual", yes).size == 20 * SH  # the cancelled one sold nothing
    assert _rows(core, "SELECT status FROM trailing_stops ORDER BY id") == [("DONE",), ("CANCELLED",)]
    # Under its floor it waited (an operator's Exit ends there; a trailing stop's floor is standing).
    [(fired,)] = _rows(core, "SELECT message FROM alerts WHERE code = 'TRAILING_STOP' ORDER BY id LIMIT 1")
    assert "below the floor you confirmed" in fired and "tried again" in fired and "ends here" not in fired, fired
    assert _rows(core, "SELECT action FROM audit_log WHERE action = 'order.trailing_stop'") == [
        ("order.trailing_stop",), ("order.trailing_stop",)]
