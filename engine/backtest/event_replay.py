"""A backtest at the live cadence: with `decide_on_events` on, the replay decides a market after each
replayed change that live's triggers would mark, at that change's simulated time (issue 58 item 3).

The same path as live (engine/trading/passes/event_decisions.py): the rows the replay applies mark markets
as the feed's listener would (`ReplayTriggers`: the touch moved or a level changed within the reach
of a strategy quoting the market, a trade print there), the desk's own fills and order updates mark
theirs through the executors' buses (their reports are applied as soon as the paper venue makes
them, as live's inbox applies them), and the core's own `DecisionSchedule`, on the simulated clock,
decides what is due: coalesced per market, first marked first decided, `decision_min_gap_ms` of
simulated time between a market's decisions that acted. The paper venue's latency model sits between
a decision and the venue as in any backtest (a call's trip replays the recording meanwhile, and what
it marks is decided after). The timed pass (`TradingCore.tick`) runs where it always ran: at the
recorded decision markers, or every `tick_interval_ms` without any.

The replay stops after the rows of one instant that marked a market (live handles a feed message,
then the loop decides), at the end of a market's gap, and at each timed pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from engine.backtest.cursor import LIMIT, Cursor, SimClock
from engine.execution.executor import Executor
from engine.trading.passes.decision_schedule import DecisionSchedule
from engine.trading.passes.event_decisions import TOUCH, EventDecisions
from engine.venues.paper import PaperVenue

NEVER = 2**62
Touch = tuple[int | None, int | None]  # (best bid price, best ask price), None for an empty side
Window = tuple[dict[int, int], dict[int, int]]  # price -> size within reach of each touch


class ReplayTriggers:
    """What a replayed row marks: live's triggers (`EventDecisions.on_market_event`, its bus
    listeners), read off the replay's own book structures without building a view."""

    def __init__(self, events: EventDecisions, venues: Sequence[PaperVenue]) -> None:
        """`venues`: the paper venues whose reports (fills, order updates) mark their markets once
        applied."""
        self.events = events
        self.venues = list(venues)
        self._empty = [venue.events.empty for venue in self.venues]  # asked after nearly every replayed row
        self._reaches: dict[str, int] | None = None
        self._watched: dict[str, tuple[str, int]] = {}
        self._touch: dict[str, Touch] = {}  # a touch-watched token -> its touch's prices, as last seen

    def watched(self) -> dict[str, tuple[str, int]]:
        """token -> (its market, the widest reach of the strategies deciding it on events; TOUCH when
        they all read only its YES touch's prices: that token alone is watched, for those prices)."""
        reaches = self.events.reaches()
        if reaches is not self._reaches:  # rebuilt after each timed pass: the strategies' markets may change
            self._reaches = reaches
            self._watched, self._touch = {}, {}
            books = self.events.core.views.books.token_books()
            for cid, reach in reaches.items():
                info = self.events.core.views.catalog.get(cid)
                if info is None:
                    continue
                if self.events.touch_only(cid):
                    self._watched[info.yes_token] = (cid, TOUCH)
                    book = books.get(info.yes_token)
                    self._touch[info.yes_token] = (None, None) if book is None else _touch(book.bids, book.asks)
                else:
                    self._watched[info.yes_token] = self._watched[info.no_token] = (cid, reach)
        return self._watched

    def touch_moved(self, token: str, bids: dict[int, int], asks: dict[int, int], is_bid: bool, price: int) -> bool:
        """After one level change at `price` on a touch-watched token: whether its touch's prices moved
        (a change behind the touch cannot move them; one at or past it may)."""
        best_bid, best_ask = seen = self._touch[token]
        if is_bid:
            if best_bid is not None and price < best_bid:
                return False
            now = (max(bids) if bids else None), best_ask
        else:
            if best_ask is not None and price > best_ask:
                return False
            now = best_bid, (min(asks) if asks else None)
        if now == seen:
            return False
        self._touch[token] = now
        return True

    def touch_changed(self, token: str, bids: dict[int, int], asks: dict[int, int]) -> bool:
        """After a snapshot or a message of changes on a touch-watched token: whether its touch's
        prices moved."""
        now = _touch(bids, asks)
        if now == self._touch[token]:
            return False
        self._touch[token] = now
        return True

    def mark(self, condition_id: str) -> None:
        self.events.schedule.mark(condition_id)

    def reported(self) -> bool:
        """Whether a paper venue has reports not yet applied (a fill, a cancel of its own)."""
        for empty in self._empty:
            if not empty():
                return True
        return False

    @staticmethod
    def within(bids: dict[int, int], asks: dict[int, int], is_bid: bool, price: int, reach: int) -> bool:
        """Whether a level that changed at `price` is at the touch or within `reach` of it, after the
        change (a removed touch: the price is past the new one): what moves live's window."""
        if is_bid:
            return not bids or price >= max(bids) - reach
        return not asks or price <= min(asks) + reach

    @staticmethod
    def window(bids: dict[int, int], asks: dict[int, int], reach: int) -> Window:
        """The levels within `reach` of each touch (live compares them before and after a message);
        compared, not read in order: left unsorted."""
        best_bid, best_ask = (max(bids) if bids else 0), (min(asks) if asks else 0)
        return ({p: s for p, s in bids.items() if p >= best_bid - reach},
                {p: s for p, s in asks.items() if p <= best_ask + reach})


def _touch(bids: dict[int, int], asks: dict[int, int]) -> Touch:
    return (max(bids) if bids else None), (min(asks) if asks else None)


async def settle(triggers: ReplayTriggers, executors: Sequence[Executor]) -> int:
    """After a stop of the replay: the gaps that ended are due, the venues' reports applied (their
    fills and order updates mark their markets), and every due market decided, until nothing is due;
    returns the decisions run."""
    schedule = triggers.events.schedule
    schedule.release()
    done = 0
    while True:
        if triggers.reported():
            for executor in executors:
                executor.drain()
        if not schedule.due:
            return done
        done += await schedule.drain()


async def replay(cursor: Cursor, clock: SimClock, triggers: ReplayTriggers, executors: Sequence[Executor], *,
                 markers: bool, first_pass: int, interval: int,
                 timed_pass: Callable[[int], Awaitable[int]],
                 quiet_run: Callable[[int, int], int] | None = None) -> tuple[int, int]:
    """The recording replayed with decisions on events between the timed passes; returns (timed
    passes, event decisions run). `quiet_run(first, before)`, when given, takes the run of timed
    passes from `first` that cannot act, before the next row or wake-up at `before` at the latest,
    at once (engine/backtest/quiet_passes.py), and answers how many it took."""
    schedule = triggers.events.schedule
    passes = decisions = 0
    next_pass = first_pass
    quiet = None if markers else quiet_run
    taken = False  # the quiet passes up to the next row were just taken (asking again finds none)
    while True:
        skipped = 0 if quiet is None or taken else _quiet_from(cursor, schedule, quiet, next_pass)
        passes += skipped
        next_pass += skipped * interval
        taken = False
        wake = schedule.wake_at()
        until = min(NEVER if wake is None else round(wake * 1000), NEVER if markers else next_pass)
        stop = cursor.advance(until - 1, markers=markers)
        if stop is None:
            break
        if isinstance(stop, int):  # a recorded decision marker
            passes += await timed_pass(stop)
        elif stop == LIMIT:
            clock.now = max(clock.now, until)
            if not markers and until == next_pass:
                # The rows just replayed may have changed nothing a pass reads: the pass is then taken
                # with the quiet ones after it, at once.
                skipped = 0 if quiet is None else _quiet_from(cursor, schedule, quiet, next_pass)
                if skipped:
                    passes += skipped
                    next_pass += skipped * interval
                    taken = True
                else:
                    passes += await timed_pass(next_pass)
                    next_pass = max(next_pass, clock.now) + interval
        decisions += await settle(triggers, executors)
    return passes, decisions


def _quiet_from(cursor: Cursor, schedule: DecisionSchedule[str], quiet_run: Callable[[int, int], int],
                first: int) -> int:
    """The quiet timed passes from `first` taken at once, up to the next row (a pass sees the rows
    before its time only) or the next waiting decision's wake-up; how many."""
    next_row = cursor.next_at()
    if next_row is None:
        return 0
    wake = schedule.wake_at()
    return quiet_run(first, min(NEVER if wake is None else round(wake * 1000), next_row + 1))
