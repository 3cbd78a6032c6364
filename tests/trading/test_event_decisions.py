"""Decisions on events (engine/trading/passes/event_decisions.py), in-process against the simulator (paper):
with the timed pass an hour away in effect (a minute, the setting's most), a move of a quoted
market's touch still gets its quotes replaced at once; a market whose book floods does not starve
another's decision, and its own replacements are spaced by `decision_min_gap_ms`; a market whose
inputs did not change is not decided again (for a market maker reading only the touch's prices, a
book written again with its touch where it was is such a market), and a decision that wants what is
working stops before the risk gate (no decisions-log row); after a timed pass that failed, no market
is decided on events until a pass completes (fail closed between passes too)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.domain import Side
from engine.feeds.market_data_events import TradePrint
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import now_ms
from tests.trading.by_hand import market_maker_core

pytestmark = pytest.mark.slow
WAIT_S = 15.0  # far below the timed pass's minute: a replacement seen in time came from an event


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=9, agents=False) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, markets: int, gap_ms: int = 10, tick_ms: int = 60_000) -> TradingCore:
    return market_maker_core(tmp, sim, markets, {"tick_interval_ms": str(tick_ms), "decision_min_gap_ms": str(gap_ms),
                                                 "decide_on_events": "1"})


async def _quoting(core: TradingCore) -> list[str]:
    """Started with its loop running; returns the markets once each has both quotes working."""
    await core.start(operator=True)
    core.gate.unblock()
    markets = sorted(core.host.markets())
    await _until(lambda: core.events.passes >= 1 and all(_quotes(core, m) for m in markets))
    return markets


def _quotes(core: TradingCore, cid: str) -> frozenset[int]:
    return frozenset(o.id for o in core.executor.state.open_for("mm", cid))


async def _until(condition, timeout_s: float = WAIT_S) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the wait (the timed pass is a minute away)"
        await asyncio.sleep(0.01)


async def _settled(core: TradingCore, cid: str) -> None:
    """Until what a decision of `cid` reads stays the same for 0.3 s (the venue's acknowledgements are in)."""
    last: object = None
    for _ in range(50):
        now = core.events._inputs([cid], False)
        if now == last and not core.events.schedule.due:
            return
        last = now
        await asyncio.sleep(0.3)
    raise AssertionError("the market's inputs kept changing")


def _move(core: TradingCore, cid: str, bid: int) -> None:
    """The market's YES touch moves to `bid`/`bid` + 2 cents, as the feed would write it."""
    info = core.catalog.get(cid)
    assert info is not None
    core.books.apply_snapshot(info.yes_token, [(bid, 500_000_000)], [(bid + 20_000, 500_000_000)], now_ms())
    core.books.apply_snapshot(info.no_token, [(1_000_000 - bid - 20_000, 500_000_000)],
                              [(1_000_000 - bid, 500_000_000)], now_ms())


def test_a_move_is_answered_without_waiting_for_the_timed_pass(tmp_path: Path, sim: SimHandle) -> None:
    core = _core(tmp_path, sim, markets=2)

    async def scenario() -> None:
        markets = await _quoting(core)
        passes = core.events.passes
        for cid, bid in ((markets[0], 300_000), (markets[1], 700_000), (markets[0], 600_000)):
            before = _quotes(core, cid)
            _move(core, cid, bid)
            await _until(lambda cid=cid, before=before: bool(_quotes(core, cid)) and not _quotes(core, cid) & before)
            assert core.events.unchanged_intents == 0 or core.events.schedule.decided > 0
        assert core.events.passes == passes  # no timed pass did it
        await core.stop()

    asyncio.run(scenario())


def test_a_flooding_market_does_not_starve_another_and_its_replacements_are_spaced(
        tmp_path: Path, sim: SimHandle) -> None:
    core = _core(tmp_path, sim, markets=2, gap_ms=50)
    acted: list[float] = []

    async def scenario() -> None:
        busy, quiet = await _quoting(core)
        loop = asyncio.get_running_loop()
        schedule = core.events.schedule
        real_decide = schedule._decide

        async def timed(key: str) -> None:  # the start of each of the busy market's decisions that sent orders
            began, last = loop.time(), schedule._last.get(key)  # or cancels (their requests leave then): one
            await real_decide(key)  # that acted told the schedule (`acted`: its last acting decision's start)
            if key == busy and schedule._last.get(key) != last:
                acted.append(began)

        schedule._decide = timed  # the schedule's own decision, timed as it is called
        stop = asyncio.Event()

        async def flood() -> None:  # the busy market's touch moves on every turn of the loop
            bid = 300_000
            while not stop.is_set():
                bid = 320_000 if bid == 300_000 else 300_000
                _move(core, busy, bid)
                await asyncio.sleep(0)

        flooding = asyncio.create_task(flood())
        await _until(lambda: len(acted) >= 3)  # the flood is being answered
        before = _quotes(core, quiet)
        _move(core, quiet, 700_000)
        await _until(lambda: bool(_quotes(core, quiet)) and not _quotes(core, quiet) & before)
        stop.set()
        await flooding
        await core.stop()

    asyncio.run(scenario())
    gaps = [b - a for a, b in zip(acted, acted[1:], strict=False)]
    assert gaps and min(gaps) >= 0.045  # 50 ms between the starts of two replacements of one market (timer slack)


def test_a_decision_with_nothing_changed_costs_nothing_and_logs_nothing(tmp_path: Path, sim: SimHandle) -> None:
    core = _core(tmp_path, sim, markets=1)

    async def scenario() -> None:
        (cid,) = await _quoting(core)
        await _settled(core, cid)
        with core.db.read() as conn:
            logged = conn.execute(text("SELECT COUNT(*) FROM decisions")).scalar_one()
        for _ in range(2):  # the second time, nothing it reads changed since the first
            decided = core.events.schedule.decided
            skipped, stopped = core.events.unchanged_inputs, core.events.unchanged_intents
            core.events.mark(cid)
            await _until(lambda decided=decided: core.events.schedule.decided > decided)
        assert core.events.unchanged_inputs == skipped + 1
        info = core.catalog.get(cid)
        assert info is not None
        book = core.books.book(info.yes_token)
        assert book is not None and book.bids and book.asks
        # The book written again as it was (a resync): a new version of it, but this market maker reads
        # only its touch's prices (StrategyBase.reads_touch_prices), which did not move: not decided.
        decided = core.events.schedule.decided
        core.books.apply_snapshot(info.yes_token, [(lv.price, lv.size) for lv in book.bids],
                                  [(lv.price, lv.size) for lv in book.asks], now_ms())
        core.events.mark(cid)
        await _until(lambda: core.events.schedule.decided > decided)
        assert core.events.unchanged_inputs == skipped + 2 and core.events.unchanged_intents == stopped
        # The touch a tick wider on each side around the same mid: what it reads changed, not what it
        # wants, so it is decided and stopped before the gate.
        decided = core.events.schedule.decided
        core.books.apply_snapshot(info.yes_token, [(book.bids[0].price - info.tick, book.bids[0].size)],
                                  [(book.asks[0].price + info.tick, book.asks[0].size)], now_ms())
        core.events.mark(cid)
        await _until(lambda: core.events.schedule.decided > decided)
        assert core.events.unchanged_intents == stopped + 1
        with core.db.read() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM decisions")).scalar_one() == logged
        await core.stop()

    asyncio.run(scenario())


def test_no_market_is_decided_on_events_between_a_failed_pass_and_the_next_good_one(
        tmp_path: Path, sim: SimHandle) -> None:
    core = _core(tmp_path, sim, markets=1, tick_ms=300)
    on_events: list[int] = []  # the desk's failed passes in a row at each decision that asked the strategies
    failing = True

    async def scenario() -> None:
        nonlocal failing
        (cid,) = await _quoting(core)
        real_tick, real_decide = core.tick, core.deciders.decide

        def decide(now: int, views: Any, only: Any = None) -> Any:
            if only is not None:
                on_events.append(core.desk.passes.in_a_row)
            return real_decide(now, views, only)

        async def tick() -> Any:
            if failing:
                raise ValueError("a poisoned input")
            return await real_tick()

        core.deciders.decide = decide  # type: ignore[method-assign]  # the core's own, recorded as it is called
        core.tick = tick  # type: ignore[method-assign]  # a pass that fails while `failing` holds
        await _until(lambda: core.desk.passes.in_a_row >= 1)  # a timed pass failed (its guard trips at 3)
        on_events.clear()  # (the acknowledgements of its quotes were decided on before it)
        before = _quotes(core, cid)
        decided = core.events.schedule.decided
        _move(core, cid, 300_000)  # a move that, on events, replaces the quotes at once
        await _until(lambda: core.events.schedule.decided > decided)  # the schedule got to the market
        # Nothing asked of the strategies, nothing placed (a quote the move crossed may have filled).
        assert on_events == [] and not _quotes(core, cid) - before and not core.desk.passes.tripped
        failing = False
        await _until(lambda: core.desk.passes.in_a_row == 0)  # a pass completed: deciding on events again
        _move(core, cid, 600_000)
        await _until(lambda: bool(on_events))
        assert on_events[0] == 0
        await core.stop()

    asyncio.run(scenario())


def test_a_market_maker_reading_the_touch_prices_is_marked_by_their_moves_alone(tmp_path: Path, sim: SimHandle) -> None:
    """The plain market maker reads only its YES touch's prices (`StrategyBase.reads_touch_prices`): a
    level behind the touch that changes, its NO book and a print do not mark its market; the touch's
    prices moving do. Each is followed at once (no await between) by a mark of our own, which finds the
    market already due only when the change had marked it (`coalesced`)."""
    core = _core(tmp_path, sim, markets=1)

    async def scenario() -> None:
        (cid,) = await _quoting(core)
        await _settled(core, cid)
        info = core.catalog.get(cid)
        assert info is not None
        yes, no = core.books.book(info.yes_token), core.books.book(info.no_token)
        assert yes is not None and no is not None and len(yes.bids) > 1

        def marks(change: Callable[[], object]) -> int:
            schedule = core.events.schedule
            coalesced = schedule.coalesced
            change()
            core.events.mark(cid)
            assert schedule.coalesced - coalesced in (0, 1)
            return schedule.coalesced - coalesced

        async def decided() -> None:
            await _until(lambda: not core.events.schedule.due)

        behind = [(lv.price, lv.size + (500_000 if n == 1 else 0)) for n, lv in enumerate(yes.bids)]
        assert marks(lambda: core.books.apply_snapshot(
            yes.token_id, behind, [(lv.price, lv.size) for lv in yes.asks], now_ms())) == 0
        await decided()
        assert marks(lambda: core.books.apply_snapshot(
            no.token_id, [(lv.price, lv.size + 1_000_000) for lv in no.bids],
            [(lv.price, lv.size) for lv in no.asks], now_ms())) == 0
        await decided()
        assert marks(lambda: core.books.record_trade(TradePrint(
            yes.token_id, yes.asks[0].price, 1_000_000, Side.BUY, now_ms()))) == 0
        await decided()
        assert marks(lambda: _move(core, cid, yes.bids[0].price + info.tick)) == 1
        await core.stop()

    asyncio.run(scenario())
