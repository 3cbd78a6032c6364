"""A take the venue refused is not fired again into the same book (issue 27): in paper, an
arbitrage that had used the visible liquidity fired refused fill-and-kill legs every tick (100
in 14 s) until the refusal and order-rate breakers stopped it. Now, after one refused round,
its takes there wait until the book changes (TAKE_HELD in the decisions log)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.settings import load_settings
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import paper_venue

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=43, agents=False, prefill_books=False) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, markets: list[str]) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('arb', 'complement_arb', :p, :m, 1, :t, :t, 'test')"""),
                     {"p": json.dumps({"edge": 0.01, "max_size": 30}), "m": json.dumps(markets), "t": now_ms()})
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('paper_mined_after_ms', '0', 1, 0, 't')"))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db)


def _counts(core: TradingCore) -> dict[str, int]:
    with core.db.read() as conn:
        return dict(conn.execute(text("SELECT status, COUNT(*) FROM orders GROUP BY status")).all())


def test_an_arbitrage_that_used_the_visible_liquidity_waits_for_the_book_to_change(
        tmp_path: Path, sim: SimHandle) -> None:
    first = sim.market(neg_risk=True)
    members = [m for m in sim.markets() if m["neg_risk_market_id"] == first["neg_risk_market_id"]]
    for m in members:
        sim.clear_book(m["condition_id"])
        sim.place_liquidity(m["yes_token_id"], "SELL", "0.20", "30")  # every leg 30 at 0.20: 0.80 a set
        sim.place_liquidity(m["yes_token_id"], "BUY", "0.15", "100")
    core = _core(tmp_path, sim, [m["condition_id"] for m in members])
    yes = [m["yes_token_id"] for m in members]
    legs = len(members)
    seen: dict[str, Any] = {}

    async def ticks(n: int) -> None:
        for _ in range(n):
            await core.tick()
            paper_venue(core).advance()
            core.executor.drain()

    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()
        for _ in range(200):
            if all(core.books.book(t) and core.books.book(t).best_ask for t in yes):
                break
            await asyncio.sleep(0.05)
        await ticks(12)  # the set is bought once; the same book shows the same 30 on offer
        seen["after_12"] = _counts(core)
        sim.place_liquidity(yes[0], "SELL", "0.19", "30")  # one leg's book changes: the set is still held
        for _ in range(200):
            if (b := core.books.book(yes[0])) is not None and b.best_ask and b.best_ask.price == 190_000:
                break
            await asyncio.sleep(0.05)
        await ticks(3)
        seen["one_changed"] = _counts(core)
        for token in yes[1:]:  # every book changed: the hold ends and the new liquidity is taken
            sim.place_liquidity(token, "SELL", "0.19", "30")
        for _ in range(200):
            if all((b := core.books.book(t)) is not None and b.best_ask and b.best_ask.price == 190_000 for t in yes):
                break
            await asyncio.sleep(0.05)
        await ticks(3)
        seen["after_change"] = _counts(core)
        await core.stop()

    asyncio.run(scenario())
    after = seen["after_12"]
    assert after.get("FILLED") == legs  # the set, once
    assert after.get("REJECTED", 0) <= legs  # at most one refused round, not one each tick
    with core.db.read() as conn:
        held = conn.execute(text("SELECT COUNT(*) FROM decisions WHERE reason = 'TAKE_HELD'")).scalar_one()
    assert 0 < held <= legs  # said once per held leg (the log repeats a reason once a minute), not per tick
    # One leg's book changed: its hold ends, but the other legs' books did not, so the set (whole or
    # nothing) still waits; once every book changed, the new asks are bought, one set more.
    assert seen["one_changed"].get("FILLED") == legs and seen["one_changed"].get("REJECTED", 0) <= legs
    assert seen["after_change"].get("FILLED") == 2 * legs
