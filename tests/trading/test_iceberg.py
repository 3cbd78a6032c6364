"""The manual ticket's icebergs in the real trading core against the simulator (paper, a real SQLite
file): an iceberg shows only its slice, places the next at the same price once the shown one has
filled, stops at its total; a slice the venue or the gate would refuse is refused when it is placed,
with the reason; it is cancelled whole; after a crash it goes on from its slices' rows, never two
slices at once."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.command_refusal import CommandRejected
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from tests.helpers import paper_venue
from tests.trading.test_strategy_limits_core import _rows, _scripted_book
from tests.trading.test_trailing_stop import SH, _bid_is, _core, _start, _tick

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=59, agents=False) as handle:
        yield handle


def _open(core: TradingCore) -> list[tuple[Any, ...]]:
    """The manual book's working orders as the executor holds them: (side, price, size, filled)."""
    return sorted((o.side.value, o.price, o.size, o.filled) for o in core.executor.state.orders.values()
                  if o.strategy == "manual")


def _slices(core: TradingCore) -> list[tuple[Any, ...]]:
    return _rows(core, "SELECT price, size, filled, status FROM orders WHERE reason LIKE 'iceberg #%' ORDER BY id")


SELLERS = itertools.count(1)


async def _fill_shown(core: TradingCore, sim: SimHandle, market: dict[str, Any], at: str = "0.45") -> None:
    """A seller takes the shown slice (an ask comes down onto its price: the paper venue fills it from the
    crossing size; a size of its own each time, as the paper venue tells a level it has taken from by its size),
    then the book is as it was."""
    yes = market["yes_token_id"]
    shown = [o for o in core.executor.state.orders.values() if o.strategy == "manual"]
    assert len(shown) == 1, shown
    sim.place_liquidity(yes, "SELL", at, str(shown[0].remaining / SH + next(SELLERS)))
    for _ in range(200):
        paper_venue(core).advance()
        core.executor.drain()
        if shown[0].id not in core.executor.state.orders:
            break
        await asyncio.sleep(0.05)
    _scripted_book(sim, market, "0.40", "0.60")
    await _bid_is(core, yes, 400_000, 600_000)


ICEBERG = {"outcome": "YES", "side": "BUY", "size": 30, "price": "0.45", "slice": 10}


def test_an_iceberg_shows_its_slice_refills_after_each_fill_and_stops_at_its_total(tmp_path: Path,
                                                                                 sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=0)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.40", "0.60")
    core = _core(tmp_path, sim, [cid], {})
    shown: list[list[tuple[Any, ...]]] = []

    async def scenario() -> dict[str, Any]:
        await _start(core, yes)
        placed = await core.operator.place_order({"condition_id": cid, **ICEBERG})
        shown.append(_open(core))
        for _ in range(3):
            await _fill_shown(core, sim, market)
            await _tick(core)  # the next slice, at the same price
            shown.append(_open(core))
        await _tick(core, 3)
        await core.stop()
        return placed

    placed = asyncio.run(scenario())
    assert (placed["total"], placed["slice"], placed["slices"], placed["price"]) == ("30", "10", 3, "0.45")
    slice_ = ("BUY", 450_000, 10 * SH, 0)
    assert shown == [[slice_], [slice_], [slice_], []]  # one slice of 10 at a time, never the whole
    assert _slices(core) == [(450_000, 10 * SH, 10 * SH, "FILLED")] * 3
    assert core.executor.state.totals("manual", yes).size == 30 * SH
    assert _rows(core, "SELECT status, total, slice FROM icebergs") == [("DONE", 30 * SH, 10 * SH)]
    assert _rows(core, "SELECT action FROM audit_log WHERE action = 'order.iceberg'") == [("order.iceberg",)]


def test_a_slice_the_venue_or_the_gate_would_refuse_is_refused_when_placed(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=3)  # minimum order: 15 shares
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.40", "0.60")
    core = _core(tmp_path, sim, [cid], {})

    async def refused(**changes: Any) -> str:
        with pytest.raises(CommandRejected) as caught:
            await core.operator.place_order({"condition_id": cid, **ICEBERG, **changes})
        return str(caught.value)

    async def scenario() -> list[str]:
        await _start(core, yes)
        return [await refused(size=40, slice=10),  # a slice under the minimum
                await refused(size=40, slice=15),  # its last slice (10) under the minimum
                await refused(size=30, slice=40),  # a slice larger than the whole
                await refused(size=3000, slice=15),  # the whole is past the exposure limits
                await refused(size=30, slice=15, tif="FOK")]

    said = asyncio.run(scenario())
    assert "a slice would be 10 shares, below the market's minimum order of 15" in said[0]
    assert "the last slice would be 10 shares, below the market's minimum order of 15" in said[1]
    assert "more than the whole" in said[2]
    assert "risk gate refuses it" in said[3] and "EXPOSURE" in said[3]
    assert "GTC only" in said[4]
    assert _rows(core, "SELECT COUNT(*) FROM icebergs") == [(0,)] and _rows(core, "SELECT COUNT(*) FROM orders") == [
        (0,)]


def test_an_iceberg_is_cancelled_whole(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=1)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.40", "0.60")
    core = _core(tmp_path, sim, [cid], {})

    async def scenario() -> dict[str, Any]:
        await _start(core, yes)
        placed = await core.operator.place_order({"condition_id": cid, **ICEBERG})
        await _fill_shown(core, sim, market)
        await _tick(core)
        assert len(_open(core)) == 1  # the second slice shown
        answer = await core.operator.cancel_iceberg({"iceberg_id": placed["iceberg_id"]})
        await _tick(core, 3)
        assert _open(core) == []
        with pytest.raises(CommandRejected, match="no working iceberg"):
            await core.operator.cancel_iceberg({"iceberg_id": placed["iceberg_id"]})
        await core.stop()
        return answer

    answer = asyncio.run(scenario())
    assert (answer["filled"], answer["total"], answer["slice_cancelled"]) == ("10", "30", True)
    assert [status for *_, status in _slices(core)] == ["FILLED", "CANCELED"]
    assert _rows(core, "SELECT status FROM icebergs") == [("CANCELLED",)]
    assert core.executor.state.totals("manual", yes).size == 10 * SH


def test_a_slice_cancelled_by_hand_ends_its_iceberg(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=0)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.40", "0.60")
    core = _core(tmp_path, sim, [cid], {})

    async def scenario() -> None:
        await _start(core, yes)
        await core.operator.place_order({"condition_id": cid, **ICEBERG})
        (order,) = [o for o in core.executor.state.orders.values() if o.strategy == "manual"]
        await core.operator.cancel_order({"order_id": order.id})
        await _tick(core, 3)
        assert _open(core) == []  # not refilled: a slice ended unfilled ends it
        await core.stop()

    asyncio.run(scenario())
    (status, detail), = _rows(core, "SELECT status, detail FROM icebergs")
    assert status == "ENDED" and "ended CANCELED with 0 of 10 filled" in detail
    assert ("ICEBERG_ENDED",) in _rows(core, "SELECT code FROM alerts")


def test_an_iceberg_goes_on_after_a_crash_never_two_slices_at_once(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=1)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.40", "0.60")
    first = _core(tmp_path, sim, [cid], {})

    async def before() -> None:
        await _start(first, yes)
        await first.operator.place_order({"condition_id": cid, **ICEBERG})
        await _fill_shown(first, sim, market)
        await _tick(first)  # the second slice shown
        # The engine dies here: no stop, its loop and venue dropped as they are.

    asyncio.run(before())
    first.db.dispose()
    assert [status for *_, status in _slices(first)] == ["FILLED", "LIVE"]
    second = _core(tmp_path, sim, [cid], {}, fresh=False)
    counts: list[int] = []

    async def after() -> None:
        await _start(second, yes)
        await _tick(second, 2)
        counts.append(len(_open(second)))  # the slice it was showing, found again; no other placed
        await _fill_shown(second, sim, market)
        await _tick(second)
        counts.append(len(_open(second)))
        await _fill_shown(second, sim, market)
        await _tick(second, 2)
        counts.append(len(_open(second)))
        await second.stop()

    asyncio.run(after())
    assert counts == [1, 1, 0]
    assert _slices(second) == [(450_000, 10 * SH, 10 * SH, "FILLED")] * 3
    assert second.executor.state.totals("manual", yes).size == 30 * SH
    assert _rows(second, "SELECT status FROM icebergs") == [("DONE",)]
