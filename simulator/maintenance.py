"""The matching engine's maintenance windows (the venue's weekly restart).

A window has two phases: first ``closed`` (every order-related private endpoint
answers HTTP 425, heartbeat dead-man timers stand still), then ``post_only`` (only
post-only placements are accepted; cancels work). Outside a window the phase is
``open``. Windows come from a schedule (``weekly``: Tuesdays 07:00 America/New_York,
``every:N``: N, 2N, ... seconds after startup, ``off``) or are started by hand
through ``POST /_sim/maintenance``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.typedefs import Middleware

from .config import parse_maintenance_schedule

OPEN, CLOSED, POST_ONLY = "open", "closed", "post_only"
VENUE_TZ = ZoneInfo("America/New_York")
WEEKLY_WEEKDAY, WEEKLY_HOUR = 1, 7  # Tuesday, 07:00 New York time
CLOSED_MESSAGE = "the matching engine is restarting (scheduled maintenance): try again shortly"
POST_ONLY_MODE_ERROR = "the matching engine is in post-only mode: only post-only orders are accepted"
# Answered 425 while closed: every order-related private endpoint (market data, Gamma,
# auth and /balance-allowance keep answering).
CLOSED_EXACT = {
    ("POST", "/order"), ("POST", "/orders"), ("DELETE", "/order"), ("DELETE", "/orders"),
    ("DELETE", "/cancel-all"), ("DELETE", "/cancel-market-orders"), ("GET", "/data/orders"),
    ("GET", "/data/trades"), ("POST", "/v1/heartbeats"),
}
CLOSED_PREFIXES = (("GET", "/data/order/"),)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Window:
    start: float  # epoch seconds
    closed_s: float
    post_only_s: float
    source: str  # "manual" or "schedule"

    @property
    def closed_until(self) -> float:
        return self.start + self.closed_s

    @property
    def end(self) -> float:
        return self.closed_until + self.post_only_s

    def phase(self, now: float) -> str:
        if now < self.start or now >= self.end:
            return OPEN
        return CLOSED if now < self.closed_until else POST_ONLY

    def as_json(self) -> dict[str, object]:
        return {"source": self.source, "started_at": _ms(self.start), "closed_until": _ms(self.closed_until),
                "post_only_until": _ms(self.end), "seconds": self.closed_s,
                "post_only_seconds": self.post_only_s}


def _ms(ts: float) -> int:
    return int(ts * 1000)


def _weekly_day(now: float) -> date:
    """The date of the latest Tuesday 07:00 New York time at or before ``now``."""
    local = datetime.fromtimestamp(now, VENUE_TZ)
    day = local.date() - timedelta(days=(local.weekday() - WEEKLY_WEEKDAY) % 7)
    return day - timedelta(days=7) if _at_seven(day) > now else day


def _at_seven(day: date) -> float:
    """07:00 New York wall-clock time on ``day`` (daylight saving included)."""
    return datetime(day.year, day.month, day.day, WEEKLY_HOUR, tzinfo=VENUE_TZ).timestamp()


def weekly_start(now: float) -> float:
    return _at_seven(_weekly_day(now))


def weekly_next(now: float) -> float:
    return _at_seven(_weekly_day(now) + timedelta(days=7))


class Maintenance:
    """The current phase, from the schedule or a manual window; the clock is injectable."""

    def __init__(self, schedule: str, closed_s: float, post_only_s: float, started_at: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.kind, self.period_s = parse_maintenance_schedule(schedule)
        self.closed_s = closed_s
        self.post_only_s = post_only_s
        self.started_at = started_at
        self.clock = clock
        self.manual: Window | None = None
        self.skip_until = 0.0  # a scheduled window ended early by hand stays ended
        self.listeners: list[Callable[[str, str], None]] = []  # (old phase, new phase)
        self._last = OPEN

    # -- the schedule ----------------------------------------------------------------

    def _scheduled_start(self, now: float) -> float | None:
        """Start of the latest scheduled window at or before ``now`` (None: there is none)."""
        if self.kind == "weekly":
            return weekly_start(now)
        if self.kind == "every":
            k = int((now - self.started_at) // self.period_s)
            return self.started_at + k * self.period_s if k >= 1 else None
        return None

    def next_start(self, now: float) -> float | None:
        if self.kind == "weekly":
            return weekly_next(now)
        if self.kind == "every":
            k = max(1, int((now - self.started_at) // self.period_s) + 1)
            return self.started_at + k * self.period_s
        return None

    def window(self, now: float | None = None) -> Window | None:
        """The window in force at ``now`` (a manual one wins), or None."""
        now = self.clock() if now is None else now
        if self.manual is not None and self.manual.phase(now) != OPEN:
            return self.manual
        start = self._scheduled_start(now)
        if start is None or now < self.skip_until:
            return None
        scheduled = Window(start, self.closed_s, self.post_only_s, "schedule")
        return scheduled if scheduled.phase(now) != OPEN else None

    def phase(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        window = self.window(now)
        return window.phase(now) if window is not None else OPEN

    # -- control ---------------------------------------------------------------------

    def begin(self, closed_s: float, post_only_s: float) -> Window:
        """Start a window now (``POST /_sim/maintenance``)."""
        if closed_s < 0 or post_only_s < 0 or closed_s + post_only_s <= 0:
            raise ValueError("seconds and post_only_seconds must be >= 0, and not both 0")
        self.manual = Window(self.clock(), float(closed_s), float(post_only_s), "manual")
        self.tick()
        return self.manual

    def end(self) -> None:
        """End whatever window is in force now (``DELETE /_sim/maintenance``)."""
        now = self.clock()
        window = self.window(now)
        self.manual = None
        if window is not None and window.source == "schedule":
            self.skip_until = window.end
        self.tick()

    def tick(self) -> str:
        """Notice a phase change (called on a timer and after every control call)."""
        phase = self.phase()
        if phase != self._last:
            old, self._last = self._last, phase
            for listener in self.listeners:
                listener(old, phase)
        return phase

    def status(self) -> dict[str, Any]:
        now = self.clock()
        window = self.window(now)
        nxt = self.next_start(now)
        return {
            "phase": window.phase(now) if window else OPEN,
            "window": window.as_json() if window else None,
            "schedule": {"kind": self.kind, "every_s": self.period_s or None, "seconds": self.closed_s,
                         "post_only_seconds": self.post_only_s, "next_start": _ms(nxt) if nxt else None},
        }

    # -- HTTP ------------------------------------------------------------------------

    def middleware(self) -> Middleware:
        @web.middleware
        async def maintenance_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            if closed_endpoint(request.method, request.path) and self.phase() == CLOSED:
                body = json.dumps({"error": CLOSED_MESSAGE})
                return web.Response(status=425, text=body, content_type="application/json")
            return await handler(request)

        return maintenance_middleware


def closed_endpoint(method: str, path: str) -> bool:
    if (method, path) in CLOSED_EXACT:
        return True
    return any(method == m and path.startswith(p) for m, p in CLOSED_PREFIXES)
