"""The desk's one rate limiter: token buckets whose requests cost tokens, a venue's Retry-After held,
a debt and a venue's own count taken in, waits an abort event interrupts; and the windows that count
"at most N in any W seconds".

Its users: the endpoint families' pacing (engine/feeds/pacing.py), Polymarket's per-signer order and
cancel buckets (engine/venues/polymarket/limits.py), Kalshi's read and write buckets
(engine/venues/kalshi/http.py), the signals API's two buckets (engine/outside/signals_api.py) and the
Telegram bot's per-chat limit (engine/telegram_bot/guard.py, a window). The simulator keeps its own
(simulator/ratelimit.py, simulator/signer_limits.py): it takes the venue's rules from the venue's
documentation, never from the desk's code.

Every wait the desk imposes on itself is bounded: a hold lasts at most `max_hold_s` (the venue's
longest published window, whatever a Retry-After says), and a venue's count is taken in only within
what its bucket can hold (its callers bound it: `bounded`); a debt comes only from what the desk itself
spent. While a caller waits, `waiting_since` says since when (`engine status` shows a wait that holds
orders back: engine/trading/ledgers/venue_conditions.py).

Why not a library. aiolimiter 1.3.0 (`AsyncLimiter`, a leaky bucket) and pyrate-limiter 4.5.1 (weighted
sliding-window logs per key, sync and async) were read for this. Neither does what the venues ask:
neither lowers its level to a count the venue reports, carries a debt (Polymarket's cancel-all is billed
after its answer, Kalshi's request is taken before its wait), holds a bucket for a Retry-After, resizes
one in place when the venue names another tier, or answers a synchronous "how long until `cost` fits"
(the adapter's batches and Kalshi's batch limits are sized from it); aiolimiter runs on the event
loop's own clock (the tests and the backtests inject theirs) and admits no request larger than its
rate; pyrate-limiter keeps a timestamp per token (a cancel of 1,800 ids would log 1,800 of them). What
is left is a few lines of arithmetic, kept here once.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]  # seconds, monotonic (a test's or a replay's own)
# The longest wait a hold may impose: Polymarket's longest published window (10 minutes, its sustained
# limits); a Retry-After past it means nothing the venue publishes.
MAX_HOLD_S = 600.0


class Aborted(Exception):
    """A wait for tokens was interrupted (e.g. cancel-all dropped queued placements)."""


async def sleep_unless_aborted(seconds: float, abort: asyncio.Event | None) -> None:
    """Sleep `seconds`, or raise Aborted as soon as `abort` is set (at once if it already is)."""
    if abort is None:
        await asyncio.sleep(seconds)
        return
    if abort.is_set():
        raise Aborted()
    try:
        await asyncio.wait_for(abort.wait(), seconds)
    except TimeoutError:
        return
    raise Aborted()


def bounded(value: float, low: float, high: float) -> float:
    """`value` within [low, high]."""
    return low if value < low else high if value > high else value


class TokenBucket:
    """`rate` tokens a second up to `capacity`; a request costs `cost` tokens. The level may go below
    zero (a debt: `debit`, `owe`), never above the capacity."""

    __slots__ = ("rate", "capacity", "clock", "level", "stamp", "held_until", "max_hold_s", "waiting_since",
                 "_waiters")

    def __init__(self, rate_per_s: float, capacity: float, clock: Clock = time.monotonic, *,
                 max_hold_s: float = MAX_HOLD_S) -> None:
        if rate_per_s <= 0 or capacity < 1:
            raise ValueError("a bucket needs a positive rate and room for one request")
        self.rate, self.capacity, self.clock = rate_per_s, capacity, clock
        self.level = float(capacity)
        self.stamp = clock()
        self.held_until = 0.0
        self.max_hold_s = max_hold_s
        self.waiting_since: float | None = None  # (the clock's) since when a caller waits for tokens
        self._waiters = 0

    def _refill(self, now: float) -> None:
        level = self.level + (now - self.stamp) * self.rate
        self.level = self.capacity if level > self.capacity else level
        self.stamp = now

    def wait_s(self, cost: float = 1) -> float:
        """Seconds until `cost` tokens are there and no hold stands (0: now); takes none."""
        now = self.clock()
        self._refill(now)
        return max(self.held_until - now, (cost - self.level) / self.rate, 0.0)

    def try_take(self, cost: float = 1) -> float:
        """Take `cost` tokens and return 0, or return how long until they are there (taking none)."""
        wait = self.wait_s(cost)
        if wait == 0:
            self.level -= cost
        return wait

    def take(self, cost: float = 1) -> bool:
        """Take `cost` tokens now if they are there (a request refused otherwise, never waited for)."""
        return self.try_take(cost) == 0

    def owe(self, cost: float) -> float:
        """Take `cost` tokens now (at most a full bucket's), into debt if need be, and return how long
        the caller waits before its request goes (0: at once)."""
        now = self.clock()
        self._refill(now)
        self.level -= min(cost, self.capacity)
        return max(self.held_until - now, -self.level / self.rate, 0.0)

    async def acquire(self, cost: float = 1, abort: asyncio.Event | None = None) -> None:
        """Wait for `cost` tokens and take them; raise Aborted as soon as `abort` is set. A cost above
        the capacity can never fit: ValueError (the caller splits it)."""
        now = self.clock()  # (the refill inlined: every order and cancel passes here)
        level = self.level + (now - self.stamp) * self.rate
        self.level, self.stamp = self.capacity if level > self.capacity else level, now
        if abort is not None and abort.is_set():
            raise Aborted()
        if self.level >= cost and now >= self.held_until:
            self.level -= cost
            return
        if cost > self.capacity:
            raise ValueError(f"a request costing {cost:g} tokens can never fit a bucket of {self.capacity:g}")
        await self._wait(cost, abort, take=True)

    async def ready(self, cost: float = 1, abort: asyncio.Event | None = None) -> None:
        """Wait until `cost` tokens are there, taking none (a cost known only from the answer is
        debited after it)."""
        if abort is not None and abort.is_set():
            raise Aborted()
        if self.wait_s(cost) > 0:
            await self._wait(cost, abort, take=False)

    async def _wait(self, cost: float, abort: asyncio.Event | None, *, take: bool) -> None:
        self._waiters += 1
        if self.waiting_since is None:
            self.waiting_since = self.clock()
        try:
            while True:
                if abort is not None and abort.is_set():
                    raise Aborted()
                wait = self.wait_s(cost)
                if wait <= 0:
                    if take:
                        self.level -= cost
                    return
                await sleep_unless_aborted(wait, abort)
        finally:
            self._waiters -= 1
            if not self._waiters:
                self.waiting_since = None

    def debit(self, count: float) -> None:
        """Spend `count` tokens after the fact (a cancel-all's orders): the level may go into debt."""
        self._refill(self.clock())
        self.level -= count

    def observe(self, remaining: float) -> None:
        """The venue's own count of this bucket (its caller bounds it first): ours is lowered to it."""
        self._refill(self.clock())
        if remaining < self.level:
            self.level = remaining

    def hold(self, seconds: float) -> None:
        """Nothing from this bucket for `seconds` (a Retry-After), at most `max_hold_s`."""
        self.held_until = max(self.held_until, self.clock() + bounded(seconds, 0.0, self.max_hold_s))

    def resize(self, rate_per_s: float, capacity: float) -> None:
        self._refill(self.clock())
        self.rate, self.capacity = rate_per_s, capacity
        self.level = min(self.level, capacity)


class Window:
    """At most `limit` admissions in any `span_s` seconds, exact to the admission (a log of their times)."""

    __slots__ = ("limit", "span_s", "stamps")

    def __init__(self, limit: int, span_s: float) -> None:
        self.limit, self.span_s = limit, span_s
        self.stamps: deque[float] = deque()

    def admit(self, now: float) -> bool:
        """Count one admission at `now` and say True, or say False (counting nothing) while full."""
        stamps = self.stamps
        while stamps and now - stamps[0] >= self.span_s:
            stamps.popleft()
        if len(stamps) >= self.limit:
            return False
        stamps.append(now)
        return True
