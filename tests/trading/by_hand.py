"""A trading core driven pass by pass by its test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import text

from contracts.settings import load_settings
from engine.trading.core import TradingCore
from simulator.testing import SimHandle
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

BOOK_WAIT_S = 5.0


async def started_by_hand(core: TradingCore, condition_id: str) -> int:
    """Start `core` as the operator does, stop its loop (the test calls `tick` itself), and wait for
    the market's YES book; returns that book's mid."""
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()
    info = core.catalog.get(condition_id)
    assert info is not None
    deadline = asyncio.get_running_loop().time() + BOOK_WAIT_S
    while (book := core.books.book(info.yes_token)) is None or book.mid is None:
        assert asyncio.get_running_loop().time() < deadline, "the market's book never came"
        await asyncio.sleep(0.05)
    return book.mid


def market_maker_core(tmp: Path, sim: SimHandle, max_markets: int, settings: Mapping[str, str]) -> TradingCore:
    """A trading core on a fresh database in `tmp`, trading the simulator with one market maker
    ('mm', 20 shares) on up to `max_markets` markets, and `settings` stored."""
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('mm', 'market_making', :p, :m, 1, :t, :t, 'test')"""),
                     {"p": json.dumps({"size": 20, "max_spread": 0.5}),
                      "m": json.dumps({"filter": {"max_markets": max_markets}}), "t": now_ms()})
        for key, value in settings.items():
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, 0, 't')"), {"k": key, "v": value})
    loaded = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                            "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(loaded, db)
