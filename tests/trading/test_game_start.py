"""A sports market's game start (issue 33): where the venue clears the book at the start
(`clearBookOnStart`), the desk withdraws its quotes a configurable number of seconds before it
(GAME_STARTING in the decisions log) and quotes again once the game has started; a market whose
book is not cleared keeps its quotes; and the simulator clears the book at the start, as the venue
does. The real trading core against the simulator (paper), its start read through discovery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from engine.venues.polymarket.parse_markets import gamma_market
from simulator.testing import SimHandle, approved_simulator
from tests.clocks import ShiftedClock
from tests.trading.test_strategy_limits_core import _core, _rows, _scripted_book, _started

pytestmark = pytest.mark.slow
LEAD_S = 3


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=46, agents=False) as handle:
        yield handle


def test_the_captured_sports_markets_carry_their_start_and_the_book_clearing() -> None:
    import json

    folder = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket" / "captured"
    raw = json.loads((folder / "gamma_market_sports_market_money_line.json").read_text())
    market = gamma_market(raw[0] if isinstance(raw, list) else raw)
    assert market is not None and market.clear_book_on_start
    assert market.game_start_ms == 1775401800000  # 2026-04-05 15:10:00+00
    assert gamma_market({"conditionId": "0x1", "clobTokenIds": '["1", "2"]', "gameStartTime": "soon",
                         "clearBookOnStart": True}).game_start_ms is None  # unreadable: no known start


def _open(core, cid: str) -> int:
    return sum(1 for o in core.executor.state.orders.values() if o.condition_id == cid)


def test_quotes_are_withdrawn_before_a_cleared_book_starts_and_placed_again_after(tmp_path: Path,
                                                                                  sim: SimHandle) -> None:
    game = next(m for m in sim.markets() if m["sports"])
    other = sim.market(neg_risk=False, index=1)
    for market in (game, other):
        _scripted_book(sim, market, "0.48", "0.52")
    clock = ShiftedClock()
    core = _core(tmp_path, sim, {"mm": ([game["condition_id"], other["condition_id"]], {})}, clock=clock)
    with core.db.write() as conn:
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('game_start_withdraw_s', :v, 1, 0, 't')"), {"v": str(LEAD_S)})

    async def scenario() -> None:
        await _started(core)
        await core.reload_config()
        await core.tick()
        assert _open(core, game["condition_id"]) > 0 and _open(core, other["condition_id"]) > 0
        sim.set_game_start(game["condition_id"], 2.0)
        await core.link.discover()  # the market refresh reads the game's start from Gamma
        await core.tick()
        core.executor.drain()
        assert _open(core, game["condition_id"]) == 0  # withdrawn before the start
        assert _open(core, other["condition_id"]) > 0  # its book is not cleared: quoted as before
        sim.place_liquidity(game["yes_token_id"], "BUY", "0.40", "50")  # someone else's order rests there
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the venue clears the book at the start
            book = httpx.get(f"{sim.clob_host}/book", params={"token_id": game["yes_token_id"]}).json()
            if not book["bids"] and not book["asks"]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the book was not cleared at the game's start: {book}")
        clock.advance(6)  # the game has started and its book is cleared: quote again, on the new book
        _scripted_book(sim, game, "0.47", "0.53")
        for _ in range(200):
            if (b := core.books.book(game["yes_token_id"])) is not None and b.mid == 500_000 and b.best_bid \
                    and b.best_bid.price == 470_000:
                break
            await asyncio.sleep(0.05)
        await core.tick()
        assert _open(core, game["condition_id"]) > 0
        await core.stop()

    asyncio.run(scenario())
    why = _rows(core, "SELECT DISTINCT condition_id, detail FROM decisions WHERE reason = 'GAME_STARTING'")
    assert [cid for cid, _ in why] == [game["condition_id"]]
    assert "the venue clears this market's book then: quotes withdrawn 3 s before" in why[0][1]
