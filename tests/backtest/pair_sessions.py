"""What the pair backtest tests share: a paper session on the simulator with a Polymarket market linked to
a Kalshi market, recorded into the desk's file, for a backtest to replay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from contracts.settings import Settings, load_settings
from engine.trading.core import TradingCore
from simulator.testing import SimHandle
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

SESSION_SETTINGS = (("paper_mined_after_ms", 0), ("tick_interval_ms", 200), ("paper_latency", "zero"))


def session_settings(tmp: Path, sim: SimHandle) -> Settings:
    return load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                          "TRADER_DB": str(tmp / "live.db"), "SIMULATOR_SEED": "5"})


def recorded_session(tmp: Path, sim: SimHandle, cid: str, ticker: str, *, kind: str, name: str,
                     params: dict[str, Any], markets: list[str], inverted: bool,
                     done: Callable[[TradingCore], bool]) -> tuple[int, int]:
    """A paper session of one strategy (`kind`, `name`, `params`, `markets`) on `cid` linked to `ticker`,
    until `done` (bounded) and a second more, recorded; returns its (start, end)."""
    settings = session_settings(tmp, sim)
    migrate(settings.db_path)
    db = Database(settings.db_path)
    with db.write() as conn:
        for key, value in SESSION_SETTINGS:
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, 0, 'test')"), {"k": key, "v": json.dumps(value)})
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES (:n, :k, :p, :m, 1, 0, 0, 'test')"""),
                     {"n": name, "k": kind, "p": json.dumps(params), "m": json.dumps(markets)})
    add_pair(db, condition_id=cid, kalshi_ticker=ticker, inverted=inverted, polymarket_question="q",
             kalshi_title="Kalshi's question", warnings=[], actor="test")

    async def session() -> tuple[int, int]:
        start = now_ms()
        core = TradingCore(settings, db)
        await core.start(operator=True)
        core.gate.unblock()
        for _ in range(200):
            if done(core):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        await core._stop_loop()
        end = now_ms()
        await core.stop()
        return start, end

    start, end = asyncio.run(session())
    db.dispose()
    return start, end
