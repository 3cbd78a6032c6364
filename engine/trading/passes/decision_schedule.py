"""Decisions scheduled per market, on events, coalesced: what the live core's loop runs between
its timed passes (engine/trading/core.py `_run`, engine/trading/passes/event_decisions.py).

Whatever changes a market's inputs (its book within the strategy's reach, a trade, a fill or
order update of the desk's own, a reference or signal, a parameter or limit, a command) marks the
market. A marked market is decided as soon as the loop gets to it, once for however many marks
arrived meanwhile (its decision reads the latest state, so a burst costs one decision). A market
marked while its decision runs is decided once more after it, never twice at once. Markets are
decided in the order they were first marked, one at a time, and the loop is given back between
two decisions: a market whose book floods (a thousand updates a second) is decided at most once
per round of the markets waiting, so it never starves the quiet ones, the feeds, the commands or
the heartbeat. A market whose decision sent orders or cancels (`acted`) less than `min_gap_s`
ago is decided when the gap ends (once, however many marks arrive meanwhile): a flood of book
updates cannot become a flood of cancels against the venue's per-signer rate limits. The gap
runs from when that decision started, so it spaces the requests themselves: counted from its
end, it would add the venue's round trip (the decision awaits its answers) to every gap, and a
move right after a replacement waited that much longer (bench/reaction.py's tail).

Live, time is the event loop's and a gap ends on a loop timer. A backtest gives the schedule its
simulated clock instead (`clock`): a gap then ends when the replay reaches it (`wake_at` says when,
`release` marks the markets whose gap is over), and the replay runs what is due with `drain` after
each replayed event that marked a market (engine/backtest/event_replay.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from heapq import heappop, heappush
from itertools import count
from typing import Any, Generic, TypeVar

log = logging.getLogger("engine.trading.passes.decision_schedule")
Key = TypeVar("Key", bound=Hashable)
# A replay's time is whole ms of the epoch, read here as float seconds (~1.8e9, a few tenths of a µs
# apart): a gap's end summed from them can land a hair past the ms it ends at, and the replay, which
# steps to that ms, would never see it end (nor a decision then find it over). Far below the replay's 1 ms.
SIMULATED_SLACK_S = 1e-6


class DecisionSchedule(Generic[Key]):
    def __init__(self, decide: Callable[[Key], Awaitable[None]],
                 on_error: Callable[[Key, Exception], None] | None = None, *, min_gap_s: float = 0.0,
                 clock: Callable[[], float] | None = None) -> None:
        """`decide(key)` makes one market's decision (a key: a market, or a group of markets a
        strategy decides together); `on_error` hears of one that raised (the others go on);
        `min_gap_s`: the least time between two decisions of one key (0: none); `clock`: seconds of
        a simulated time (a replay), whose gaps end at `release` (None: the loop's time and timers)."""
        self._decide = decide
        self._on_error = on_error
        self.min_gap_s = min_gap_s
        self.clock = clock
        self._last: dict[Key, float] = {}  # time each key's last decision acted (`acted`)
        self._waiting: set[Key] = set()  # keys marked within their gap: decided when it ends
        self._gap_ends: list[tuple[float, int, Key]] = []  # simulated time: (when, order, key) of each gap
        self._order = count()  # (so two gaps ending at once never compare their keys)
        self._due: deque[Key] = deque()  # first marked, first decided; each key at most once
        self._queued: set[Key] = set()
        self._running: Key | None = None
        self._started = 0.0  # when the running key's decision started (its gap runs from then)
        self._again = False  # the running key was marked while it ran
        # What the loop waits on while nothing is due: a bare future `mark` resolves, so the waiting
        # task resumes on the loop's next turn (an Event's wait is a task of its own, and
        # `asyncio.wait` on it takes two more turns: ~0.3 ms of a reaction, bench/reaction.py).
        self._waiter: asyncio.Future[None] | None = None
        self.decided = 0
        self.coalesced = 0  # marks that found their market already due

    def mark(self, key: Key) -> None:
        """`key`'s inputs changed: decide it soon (once, however many marks arrive first)."""
        if key == self._running:
            self._again = True
            return
        if key in self._queued or key in self._waiting:
            self.coalesced += 1
            return
        self._queued.add(key)
        self._due.append(key)
        _resolve(self._waiter)

    def acted(self, key: Key) -> None:
        """`key`'s decision sent orders or cancels: its next waits out `min_gap_s` from when this
        one started (from now if it is not the one running)."""
        self._last[key] = self._started if key == self._running else self._now()

    def mark_all(self, keys: Iterable[Key]) -> None:
        """A change every market reads (a limit, a parameter, the mode): all of them due."""
        for key in keys:
            self.mark(key)

    def wake_at(self) -> float | None:
        """Simulated time: when the first waiting gap ends (None: none waits)."""
        return self._gap_ends[0][0] if self._gap_ends else None

    def release(self) -> None:
        """Simulated time: the keys whose gap has ended by now are due."""
        now = self._now() + SIMULATED_SLACK_S
        while self._gap_ends and self._gap_ends[0][0] <= now:
            self._gap_over(heappop(self._gap_ends)[2])

    def _now(self) -> float:
        return asyncio.get_running_loop().time() if self.clock is None else self.clock()

    @property
    def due(self) -> int:
        return len(self._due)

    async def wait(self, timeout_s: float) -> None:
        """Until a key is due or `timeout_s` passed, whichever comes first."""
        if self._due or timeout_s <= 0:
            return
        waiter = self._arm()
        timer = asyncio.get_running_loop().call_later(timeout_s, _resolve, waiter)
        try:  # (not `wait_for`: on 3.11 a cancel arriving as it times out can be lost, and stop hangs)
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    async def run(self, stopping: asyncio.Event) -> None:
        """Decide what is due until `stopping` is set, giving the loop back between decisions."""
        while not stopping.is_set():
            if not self._due:
                waiter = self._arm()
                stopper = asyncio.ensure_future(stopping.wait())
                either: set[asyncio.Future[Any]] = {waiter, stopper}
                try:
                    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                    stopper.cancel()
                    self._waiter = None
                continue
            await self.step()
            await asyncio.sleep(0)  # the feeds, the commands and the heartbeat get their turn

    async def drain(self, most: int = 1_000_000) -> int:
        """Decide until nothing is due (a backtest after each replayed event); at most `most`
        decisions, so decisions that keep marking their own market cannot loop for ever."""
        done = 0
        while self._due and done < most:
            await self.step()
            done += 1
        return done

    async def step(self) -> None:
        """The first due market's decision."""
        key = self._due.popleft()
        self._queued.discard(key)
        started = self._now()
        if self.min_gap_s > 0:
            wait = self._last.get(key, float("-inf")) + self.min_gap_s - started
            if wait > SIMULATED_SLACK_S:  # it acted a moment ago: decided when its gap ends
                self._waiting.add(key)
                if self.clock is None:
                    asyncio.get_running_loop().call_later(wait, self._gap_over, key)
                else:
                    heappush(self._gap_ends, (started + wait, next(self._order), key))
                return
        self._running, self._again, self._started = key, False, started
        try:
            await self._decide(key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("a market's decision failed; the others go on", extra={"market": str(key)})
            if self._on_error is not None:
                self._on_error(key, exc)
        finally:
            self._running = None
            self.decided += 1
        if self._again:  # marked while it ran: after every market already waiting
            self.mark(key)

    def _gap_over(self, key: Key) -> None:
        self._waiting.discard(key)
        self.mark(key)

    def _arm(self) -> asyncio.Future[None]:
        """A new future for the loop to wait on, resolved by the next `mark`."""
        self._waiter = asyncio.get_running_loop().create_future()
        return self._waiter


def _resolve(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
