"""Sports markets priced from bookmakers' odds: the reference price of each market the operator
linked by hand to an event of the odds feed (`odds_links`, `python -m engine odds link`).

The feed (ODDS_FEED in .env: an http(s) URL, which may carry the vendor's key and is redacted from
the logs, or a file path) is read every `odds_poll_s` in The Odds API v4 layout and each linked
market's reference is the margin-free probability of its outcome, the median over the bookmakers
whose prices are younger than `odds_max_age_s` (contracts/odds.py: Shin's method). Value betting
with `fair_source: reference` and market making with a reference fair value trade toward it.

The feed is hostile until read: the download is bounded in size (MAX_BYTES) and time (a server that
stalls is cut off after TIMEOUT_S), a redirect is not followed, and a feed that fails, stalls or
cannot be read keeps the last good odds, which age out bookmaker by bookmaker: a market whose
bookmakers are all too old has no reference (strategies stay out), never a guessed one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping

from contracts.jsonsafe import JsonRefused, loads_bounded
from contracts.odds import OddsError, OddsEvent, fair_probability, parse_events
from engine.feeds.outside_file import FeedError, read_bounded
from engine.feeds.reference import HISTORY, ReferenceSource
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.odds")
MAX_BYTES = 8 * 1024 * 1024
TIMEOUT_S = 10.0


OddsFeedError = FeedError  # the odds feed could not be read (outside_file.py)


async def read_feed(location: str, *, max_bytes: int = MAX_BYTES, timeout_s: float = TIMEOUT_S) -> bytes:
    """The odds feed's bytes from a URL or a file, bounded in size and time."""
    return await read_bounded(location, setting="ODDS_FEED", what="the odds feed", max_bytes=max_bytes,
                              timeout_s=timeout_s)


class OddsReference:
    """The linked markets' reference prices, ahead of `other` (the desk's other references) for them."""

    def __init__(self, location: str, links: Mapping[str, tuple[str, str]], *, poll_s: float = 60.0,
                 max_age_ms: int = 600_000, other: ReferenceSource | None = None,
                 clock_ms: Callable[[], int] = now_ms) -> None:
        """`links`: condition id -> (event id, outcome whose win is the market's YES)."""
        self.location = location
        self.links = dict(links)
        self.poll_s = poll_s
        self.max_age_ms = max_age_ms
        self.other = other
        self.clock_ms = clock_ms
        self.events: dict[str, OddsEvent] = {}
        self.read_at: int | None = None
        self.last_error: str | None = None
        self.failures = 0
        self._history: dict[str, deque[tuple[int, int]]] = {}
        self._task: asyncio.Task[None] | None = None

    def reference(self, condition_id: str) -> tuple[int, int] | None:
        if condition_id not in self.links:
            return self.other.reference(condition_id) if self.other is not None else None
        event_id, outcome = self.links[condition_id]
        event = self.events.get(event_id)
        if event is None or self.read_at is None:
            return None
        found = fair_probability(event, outcome, now_ms=self.clock_ms(), max_age_ms=self.max_age_ms)
        if found is None:
            return None
        points = self._history.setdefault(condition_id, deque(maxlen=HISTORY))
        if not points or points[-1] != (self.read_at, found[0]):
            points.append((self.read_at, found[0]))
        return found[0], self.read_at

    def history(self, condition_id: str) -> tuple[tuple[int, int], ...]:
        if condition_id in self.links:
            return tuple(self._history.get(condition_id, ()))
        return self.other.history(condition_id) if self.other is not None else ()

    async def poll_once(self) -> bool:
        """Read the feed once; True when it was read (the events replaced), False when it failed
        (the last good events kept, to age out)."""
        started = time.monotonic()
        try:
            raw = loads_bounded(await read_feed(self.location), max_bytes=MAX_BYTES, max_depth=8, what="the odds feed")
            self.events = parse_events(raw)
        except (OddsFeedError, OddsError, JsonRefused) as exc:
            self.failures += 1
            self.last_error = str(exc)[:300]
            log.warning("odds feed not read", extra={"error": self.last_error})
            return False
        self.read_at, self.last_error = self.clock_ms(), None
        log.info("odds feed read", extra={"events": len(self.events), "linked": len(self.links),
                                          "took_ms": round((time.monotonic() - started) * 1000)})
        return True

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="odds-feed-poll")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.poll_s)
