"""End to end: the engine process, run against the simulator, discovers markets and keeps
live books: after the venue's book changes, the engine's view (what it recorded) matches
the venue's own /book, level by level."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contracts.domain import to_micros
from engine.backtest.replay import apply, recorded_events
from engine.feeds.books import BookCache
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.migrations import migrate
from tests.helpers import EngineProcess, isolated_env, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # The calm market, by name: its five-level prefill leaves the orders this test adds at 0.03 and
    # 0.97 inside the ten levels it compares (the informed market's maker rests ten levels a side).
    with running_simulator(seed=8, agents=False, agent_market="calm") as handle:
        yield handle


def _venue_book(sim: SimHandle, token: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    raw = httpx.get(f"{sim.clob_host}/book", params={"token_id": token}, timeout=5).json()
    side = lambda levels: [(to_micros(lv["price"]), to_micros(lv["size"])) for lv in reversed(levels)]  # noqa: E731
    return side(raw["bids"])[:10], side(raw["asks"])[:10]


def _engine_book(db: Path, token: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    books = BookCache()
    for event in recorded_events(db, [token], 0, 2**62):
        if event[2] != "decide":
            apply(books, event)
    book = books.book(token, 10)
    if book is None:
        return [], []
    return [(lv.price, lv.size) for lv in book.bids], [(lv.price, lv.size) for lv in book.asks]


def test_engine_discovers_markets_and_keeps_live_books(tmp_path: Path, sim: SimHandle) -> None:
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
    db = Path(env["TRADER_DB"])
    migrate(db)
    market = sim.market(neg_risk=False)
    with sqlite3.connect(db) as conn:  # a strategy on one market makes the engine subscribe to it
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                                updated_by)
                        VALUES ('watch', 'market_making', ?, ?, 1, 0, 0, 'test')""",
                     (json.dumps({"size": 20, "max_spread": 0.01}), json.dumps([market["condition_id"]])))
        conn.execute("UPDATE engine_state SET desired_state = 'RUNNING'")
    engine = EngineProcess(tmp_path, env)
    try:
        engine.start()
        assert len(sim.markets()) == sqlite3.connect(db).execute("SELECT COUNT(*) FROM markets").fetchone()[0]
        token = market["tokens"][0]["token_id"] if "tokens" in market else market["yes_token"]
        wait_until(lambda: _engine_book(db, token) == _venue_book(sim, token), 20, interval=0.3,
                   what="the engine's book equals the venue's")
        # The venue's book moves; the engine follows it.
        sim.place_liquidity(token, "BUY", "0.03", "123")
        sim.place_liquidity(token, "SELL", "0.97", "45")
        wait_until(lambda: _engine_book(db, token) == _venue_book(sim, token), 20, interval=0.3,
                   what="the engine's book follows the venue's changes")
        assert (30_000, 123_000_000) in _engine_book(db, token)[0]
    finally:
        engine.cleanup()
