"""The strategy kinds that fit binary markets (issue 76) trade on paper: one real trading core against the
simulator hosts a ladder, an accumulation, a breakout, a relative-value pair and an ensemble, each made as
every strategy is (paper only), each on its own markets, and each one's orders go through the one risk gate
to the paper venue as its idea says: the ladder rests its levels, the accumulation buys a slice per
interval, the breakout buys once its market leaves its range, the pair sells the rich market and buys the
cheap one, the ensemble buys under its calibration-weighted fair value."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.domain import Outcome, Side, yes_space
from contracts.settings import load_settings
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.clocks import ShiftedClock
from tests.helpers import paper_venue
from tests.trading.test_strategy_limits_core import _mid_is, _rows, _scripted_book, _started

pytestmark = pytest.mark.slow

STRATEGIES: dict[str, tuple[str, dict[str, Any], list[int]]] = {  # name: (kind, params, standard markets by index)
    "grid": ("ladder", {"levels": 2, "spacing": 0.01, "size": 10, "recenter_move": 0.1}, [0]),
    "dca": ("accumulate", {"target_shares": 20, "size": 10, "interval_s": 60, "price_cap": 0.55}, [1]),
    "break": ("breakout", {"window_s": 60, "margin": 0.02, "size": 20}, [2]),  # (markets 2 to 5: 15 shares at least)
    "ens": ("ensemble", {"max_order": 20}, [3]),
    "pair": ("relative_value", {"against": "other_market", "warmup_s": 0, "lookback_s": 300, "size": 20}, [4, 5]),
}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=76, agents=False) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, markets: dict[int, dict[str, Any]], clock: ShiftedClock) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        for name, (kind, params, indexes) in STRATEGIES.items():  # as every strategy is made: paper only
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                     updated_by) VALUES (:n, :k, :p, :m, 1, :t, :t, 'test')"""),
                         {"n": name, "k": kind, "p": json.dumps(params), "t": now_ms(),
                          "m": json.dumps([markets[i]["condition_id"] for i in indexes])})
        for key, value in (("paper_mined_after_ms", 0), ("paper_latency", "zero"), ("tick_interval_ms", 60_000)):
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, 0, 'test')"), {"k": key, "v": json.dumps(value)})
        ensemble = markets[3]["condition_id"]
        for source, value, confidence in (("operator", 700_000, None), ("model", 660_000, 800_000)):
            conn.execute(text("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by,
                                     confidence) VALUES (:c, :s, :v, 1, 0, 'test', :conf)"""),
                         {"c": ensemble, "s": source, "v": value, "conf": confidence})
        conn.execute(text("""INSERT INTO signal_sources (source, state, brier, markets, judged_at, reason)
                             VALUES ('model', 'feeding', 100000, 20, 0, 'test')"""))
        # The quiet books' age counts the minute the clock skips: not stale within it.
        conn.execute(text("""INSERT INTO risk_limits (name, value, version, updated_at, updated_by)
                             VALUES ('max_data_age', '600', 1, 0, 'test')"""))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db, clock=clock)


def _orders(core: TradingCore, strategy: str) -> list[tuple[str, str, int, str, str, int, str]]:
    """(market, YES side, YES price, tif, status, filled, mode) of each of its orders, in order."""
    rows = _rows(core, "SELECT condition_id, outcome, side, price, tif, status, filled, mode FROM orders "
                       "WHERE strategy = ? ORDER BY id", strategy)
    return [(cid, *_yes(outcome, side, price), tif, status, filled, mode)
            for cid, outcome, side, price, tif, status, filled, mode in rows]


def _yes(outcome: str, side: str, price: int) -> tuple[str, int]:
    yes_side, yes_price = yes_space(Outcome(outcome), Side(side), price)
    return yes_side.value, yes_price


def test_every_new_kind_trades_on_paper_through_the_gate(tmp_path: Path, sim: SimHandle) -> None:
    markets = {i: sim.market(neg_risk=False, index=i) for i in range(6)}
    for market in markets.values():
        _scripted_book(sim, market, "0.48", "0.52")
    clock = ShiftedClock()
    core = _core(tmp_path, sim, markets, clock)

    async def tick() -> None:
        await core.tick()
        paper_venue(core).advance()
        core.executor.drain()

    async def scenario() -> None:
        await _started(core)  # (it ticks once: every strategy's first decision)
        paper_venue(core).advance()
        core.executor.drain()
        await tick()  # the slice in flight has resolved: the next waits for its interval
        clock.advance(30)
        await tick()
        clock.advance(31)
        await tick()  # a minute later: the second slice; the breakout has watched a whole window
        for index in (2, 4):  # market 2 breaks out of its range; market 4 goes rich against market 5
            _scripted_book(sim, markets[index], "0.54", "0.56")
            await _mid_is(core, markets[index]["yes_token_id"], 550_000)
        clock.advance(1)
        await tick()
        grid.extend(_orders(core, "grid"))  # (before the stop withdraws them)
        await core.stop()

    grid: list[tuple[str, str, int, str, str, int, str]] = []
    asyncio.run(scenario())
    cid = {i: m["condition_id"] for i, m in markets.items()}
    assert {(side, price, tif, status) for _, side, price, tif, status, _, _ in grid} == {
        ("BUY", 490_000, "GTC", "LIVE"), ("BUY", 480_000, "GTC", "LIVE"), ("SELL", 510_000, "GTC", "LIVE"),
        ("SELL", 520_000, "GTC", "LIVE")}  # resting from the first decision on, left in place
    dca = _orders(core, "dca")
    assert [(side, price, tif, filled) for _, side, price, tif, _, filled, _ in dca] == [
        ("BUY", 520_000, "FAK", 10_000_000)] * 2  # a slice, then the next a minute later: the target
    [(broke, side, price, tif, _, filled, _)] = _orders(core, "break")
    assert (broke, side, price, tif, filled) == (cid[2], "BUY", 560_000, "FAK", 20_000_000)
    pair = {(market, side, filled) for market, side, _, _, _, filled, _ in _orders(core, "pair")}
    assert pair == {(cid[4], "SELL", 20_000_000), (cid[5], "BUY", 20_000_000)}
    ens = {(market, side, price, filled) for market, side, price, _, _, filled, _ in _orders(core, "ens")}
    assert ens == {(cid[3], "BUY", 520_000, 20_000_000)}  # under its fair value 0.67, a take per decision
    modes = {mode for name in STRATEGIES for *_, mode in _orders(core, name)}
    assert modes == {"paper"}
    [(forecast,)] = _rows(core, "SELECT DISTINCT probability FROM forecasts WHERE strategy = 'ens'")
    assert forecast == 670_000
