"""Whole arbitrages only, in the real trading core against the simulator (paper): a forced
neg-risk mispricing with one leg refused by the risk gate places nothing at all (once it
bought 60 + 60 + 20 + 0 of four outcomes); with every leg acceptable, every leg is bought, the
same size (also in a real engine process); and a set the venue fills unevenly is unwound, or
completed when the strategy says so."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.domain import Level, Side
from contracts.settings import load_settings
from engine.trading.core import TradingCore
from engine.trading.ledgers import arbs
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.clocks import wait_for_beats
from tests.helpers import paper_desk, paper_venue, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=43, agents=False, prefill_books=False) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, markets: list[str], **params: Any) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('arb', 'complement_arb', :p, :m, 1, :t, :t, 'test')"""),
                     {"p": json.dumps({"edge": 0.01, "max_size": 60, **params}), "m": json.dumps(markets),
                      "t": now_ms()})
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('paper_mined_after_ms', '0', 1, 0, 't')"))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db)


def _group(sim: SimHandle) -> list[dict[str, Any]]:
    first = sim.market(neg_risk=True)
    return [m for m in sim.markets() if m["neg_risk_market_id"] == first["neg_risk_market_id"]]


def _stocked_group(sim: SimHandle) -> list[dict[str, Any]]:
    """The neg-risk set with 30 on offer at 0.20 and 100 bid at 0.15 on every leg."""
    members = _group(sim)
    for m in members:
        sim.clear_book(m["condition_id"])
        sim.place_liquidity(m["yes_token_id"], "SELL", "0.20", "30")
        sim.place_liquidity(m["yes_token_id"], "BUY", "0.15", "100")
    return members


async def _started_with_a_short_leg(core: TradingCore, members: list[dict[str, Any]]) -> None:
    """The core started (ticks by hand) once every leg's ask is in its books; then 20 of the first
    leg's 30 on offer at 0.20 are taken behind the strategy's back (as a faster trader would on
    the venue; the paper venue fills against the book it sees): that leg fills 10, the others 30."""
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()
    yes = [m["yes_token_id"] for m in members]
    for _ in range(200):
        if all(core.books.book(t) and core.books.book(t).best_ask for t in yes):
            break
        await asyncio.sleep(0.05)
    paper_venue(core).consumed.take(yes[0], Side.SELL, Level(200_000, 30_000_000), 20_000_000)  # its asks


async def _ticks(core: TradingCore, ready: Any, n: int = 3) -> None:
    for _ in range(200):
        if ready():
            break
        await asyncio.sleep(0.05)
    for _ in range(n):
        await core.tick()
        paper_venue(core).advance()
        core.executor.drain()


def _bought(core: TradingCore) -> dict[str, int]:
    with core.db.read() as conn:
        rows = conn.execute(text("""SELECT condition_id, SUM(size) FROM fills WHERE strategy = 'arb' AND side = 'BUY'
                                    GROUP BY condition_id""")).all()
    return {cid: int(total) for cid, total in rows}


def test_a_neg_risk_set_with_a_refused_leg_places_nothing_then_buys_whole(tmp_path: Path, sim: SimHandle) -> None:
    members = _group(sim)
    for m in members:
        sim.clear_book(m["condition_id"])
        sim.place_liquidity(m["yes_token_id"], "SELL", "0.20", "60")  # four asks summing to 0.80
    for m in members[:-1]:
        sim.place_liquidity(m["yes_token_id"], "BUY", "0.10", "60")  # the last has no bid: NO_MID for its take
    core = _core(tmp_path, sim, [m["condition_id"] for m in members])

    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()
        yes = [m["yes_token_id"] for m in members]
        await _ticks(core, lambda: all(core.books.book(t) and core.books.book(t).best_ask for t in yes))
        with core.db.read() as conn:
            placed = conn.execute(text("SELECT COUNT(*) FROM orders")).scalar_one()
            reasons = {r[0] for r in conn.execute(text("SELECT reason FROM decisions"))}
        assert placed == 0, "a partial set was placed"  # not 60 + 60 + 60 + 0
        assert {"NO_MID", "GROUP_INCOMPLETE"} <= reasons
        sim.place_liquidity(members[-1]["yes_token_id"], "BUY", "0.10", "60")
        await _ticks(core, lambda: (b := core.books.book(yes[-1])) is not None and b.best_bid is not None)
        await core.stop()

    asyncio.run(scenario())
    bought = _bought(core)
    assert set(bought) == {m["condition_id"] for m in members} and len(set(bought.values())) == 1


def test_a_set_the_venue_fills_unevenly_is_unwound(tmp_path: Path, sim: SimHandle) -> None:
    members = _stocked_group(sim)
    core = _core(tmp_path, sim, [m["condition_id"] for m in members], on_partial="unwind", max_size=30)

    async def scenario() -> None:
        await _started_with_a_short_leg(core, members)
        await core.tick()
        paper_venue(core).advance()
        core.executor.drain()
        await core.tick()  # the long legs' shares have settled: their excess is sold
        paper_venue(core).advance()
        core.executor.drain()
        await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        codes = {r[0] for r in conn.execute(text("SELECT code FROM alerts"))}
        unwound = conn.execute(text("""SELECT token_id, side, size FROM orders WHERE reason = 'unwind arbitrage'
                                       ORDER BY token_id""")).all()
    assert "ARB_PARTIAL" in codes
    long_legs = sorted(m["yes_token_id"] for m in members[1:])
    assert [(u[0], u[1], u[2]) for u in unwound] == [(t, "SELL", 20_000_000) for t in long_legs]


def test_a_set_the_venue_fills_unevenly_is_completed(tmp_path: Path, sim: SimHandle,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    members = _stocked_group(sim)
    core = _core(tmp_path, sim, [m["condition_id"] for m in members], on_partial="complete", max_size=30)
    short = members[0]["yes_token_id"]
    settle = arbs.settle

    async def restocked_then_settled(parts: Any, fill: Any, book: Any) -> None:
        # Between the group's fill and its completion a seller adds 20 at 0.20 to the short leg (on
        # the venue, delivered by the feed): the completion's fill-and-kill at the leg's own limit can buy.
        sim.place_liquidity(short, "SELL", "0.20", "20")
        for _ in range(200):
            if (b := core.books.book(short)) is not None and b.best_ask == Level(200_000, 50_000_000):
                break
            await asyncio.sleep(0.05)
        await settle(parts, fill, book)

    monkeypatch.setattr(arbs, "settle", restocked_then_settled)

    async def scenario() -> None:
        await _started_with_a_short_leg(core, members)
        await core.tick()
        paper_venue(core).advance()
        core.executor.drain()
        assert core.desk.arbitrage.pending == []  # completed: no leg left long, nothing to unwind
        await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        alerts = conn.execute(text("SELECT message FROM alerts WHERE code = 'ARB_PARTIAL'")).scalars().all()
        completed = conn.execute(text("""SELECT token_id, side, price, size, tif, filled FROM orders
                                         WHERE reason = 'complete arbitrage'""")).all()
        unwound = conn.execute(text("SELECT COUNT(*) FROM orders WHERE reason = 'unwind arbitrage'")).scalar_one()
    assert len(alerts) == 1 and alerts[0].endswith("(10 of 30, 30 of 30, 30 of 30, 30 of 30): complete"), alerts
    assert [tuple(c) for c in completed] == [(short, "BUY", 200_000, 20_000_000, "FAK", 20_000_000)]
    assert unwound == 0
    assert _bought(core) == {m["condition_id"]: 30_000_000 for m in members}  # the set is whole again


def test_in_a_real_engine_a_set_with_a_refused_leg_places_nothing_then_buys_whole(tmp_path: Path,
                                                                                  sim: SimHandle) -> None:
    """The same whole-or-nothing rule in a real `python -m engine run` on its own loop and clock."""
    members = _group(sim)
    for m in members:
        sim.clear_book(m["condition_id"])
        sim.place_liquidity(m["yes_token_id"], "SELL", "0.20", "60")
    for m in members[:-1]:
        sim.place_liquidity(m["yes_token_id"], "BUY", "0.10", "60")  # the last has no bid: NO_MID for its take
    engine = paper_desk(tmp_path, sim, [("arb", "complement_arb", {"edge": 0.01, "max_size": 60},
                                         [m["condition_id"] for m in members])])
    db = engine.db_path

    def rows(sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(db, timeout=10) as conn:
            return conn.execute(sql).fetchall()

    try:
        engine.start()
        wait_until(lambda: {"NO_MID", "GROUP_INCOMPLETE"} <= {r for (r,) in rows("SELECT reason FROM decisions")},
                   20, 0.1, "the set refused as a whole")
        wait_for_beats(db, 3)  # a couple more decisions on the same books
        assert rows("SELECT COUNT(*) FROM orders") == [(0,)], "a partial set was placed"
        sim.place_liquidity(members[-1]["yes_token_id"], "BUY", "0.10", "60")
        bought = lambda: dict(rows("SELECT condition_id, SUM(size) FROM fills WHERE side = 'BUY' "  # noqa: E731
                                   "GROUP BY condition_id"))
        # Fills of the same group land together: polled until every leg has the same size.
        wait_until(lambda: len(bought()) == len(members) and len(set(bought().values())) == 1, 20, 0.1,
                   "every leg bought, in equal sizes")
    finally:
        engine.cleanup()
    assert set(bought()) == {m["condition_id"] for m in members} and len(set(bought().values())) == 1
