"""The floor the operator confirmed is the one enforced (issue 87, item 1), in the trading core against the
simulator: an exit or flatten carrying `floors` sells at no less than them (the order's limit is the higher of
the confirmed floor and the engine's own), sends nothing once the market is below them and says so in words,
ends the exit there rather than wait, and leaves alone a position the command names no floor for; a command
with no floors at all (an older front end's) sells at the engine's floor and its answer says no floor came.
The same through a real engine process from each front end: tests/process/test_exit_floor_fronts.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.domain import Intent, Quote, Side, Tif, fmt
from contracts.exit_floors import exit_floor, floor_key
from simulator.testing import SimHandle, approved_simulator
from tests.helpers import paper_venue
from tests.trading.test_core import _core, _started

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=87, agents=False) as handle:
        yield handle


def _held(core: Any, size: int = 20_000_000) -> tuple[str, str]:
    """A settled YES position of strategy 'hand' in its first market, bought with a take."""
    cid = sorted(core.host.markets())[0]
    market = core.catalog.get(cid)
    ask = core.books.book(market.yes_token).best_ask
    core.executor.set_intents([Intent("hand", cid, (Quote(Side.BUY, ask.price, size, Tif.FAK),))])
    return cid, market.yes_token


async def _holding(core: Any) -> tuple[str, str]:
    await _started(core)
    await core.reload_config()
    await core.tick()
    cid, token = _held(core)
    await core.executor.reconcile()
    paper_venue(core).advance()
    core.executor.drain()
    assert core.executor.state.totals("hand", token).sellable >= 20_000_000
    return cid, token


def _sells(core: Any) -> list[tuple[int, int]]:
    with core.db.read() as conn:
        return [(int(p), int(f)) for p, f in conn.execute(text(
            "SELECT price, filled FROM orders WHERE strategy = 'hand' AND side = 'SELL' AND tif = 'FAK'"))]


def _paper_settings(core: Any) -> None:
    with core.db.write() as conn:
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('paper_mined_after_ms', '0', 1, 0, 't')"))


def test_an_exit_never_sells_below_the_confirmed_floor_and_says_the_market_moved(tmp_path: Path,
                                                                                 sim: SimHandle) -> None:
    core = _core(tmp_path, sim, [("hand", "market_making", {"size": 20, "max_spread": 0.5})])
    _paper_settings(core)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], int, int]:
        cid, token = await _holding(core)
        best = core.books.book(token).best_bid.price
        confirmed = best + 20_000  # as if the bids fell two cents after the operator confirmed
        moved = await core.operator.exit({"strategy": "hand", "condition_id": cid, "outcome": "YES",
                                          "floors": {floor_key(cid, "YES"): fmt(confirmed)}})
        for _ in range(3):  # the exit ended: no later pass sells below the floor either
            await core.tick()
            paper_venue(core).advance()
            core.executor.drain()
        after_moved = len(_sells(core))
        held = core.executor.state.totals("hand", token).size
        floor = best - 10_000  # a floor the bids still reach: sold at no less than it
        sold = await core.operator.exit({"strategy": "hand", "condition_id": cid, "outcome": "YES",
                                         "floors": {floor_key(cid, "YES"): fmt(floor)}})
        await core.stop()
        return moved, sold, after_moved, held

    moved, sold, after_moved, held = asyncio.run(scenario())
    [position] = moved["positions"]
    assert position["sold"] == "0" and "moved below the floor you confirmed" in position["not_sold"], position
    assert after_moved == 0 and held >= 20_000_000  # nothing was sent, now or on a later pass
    assert moved["floor"].startswith("each sale was bounded by the floor you confirmed")
    [position] = sold["positions"]
    assert float(position["sold"]) > 0 and float(position["limit"]) >= float(position["floor"])
    assert all(price >= int(float(position["floor"]) * 1_000_000) for price, _ in _sells(core))


def test_a_flatten_sells_only_what_was_confirmed_at_its_floor_and_an_old_one_at_the_engines(
        tmp_path: Path, sim: SimHandle) -> None:
    core = _core(tmp_path, sim, [("hand", "market_making", {"size": 20, "max_spread": 0.5})])
    _paper_settings(core)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], int, int]:
        cid, token = await _holding(core)
        await core.pause()
        book = core.books.book(token)
        assert book is not None and book.mid is not None
        ours = exit_floor(book.mid, core.risk.limits.probability("max_slippage"), core.catalog.get(cid).tick)
        # A flatten confirmed for the NO side alone: the YES position was not in what the operator saw.
        other = await core.operator.flatten({"condition_id": cid, "floors": {floor_key(cid, "NO"): "0.5"}})
        old = await core.operator.flatten({"condition_id": cid})  # as queued before floors travelled
        await core.stop()
        return other, old, ours, len(_sells(core))

    other, old, ours, sells = asyncio.run(scenario())
    assert other["orders"] == 0 and "no floor was confirmed for it" in other["sold"][0]["why_not"]
    assert old["orders"] == 1 and old["floor"].startswith("no floor came with this command")
    assert int(float(old["sold"][0]["limit"]) * 1_000_000) == ours and sells == 1
