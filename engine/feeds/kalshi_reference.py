"""The other venue's price as a reference: each Polymarket market the operator linked to a Kalshi
market (`venue_pairs`, engine/cli/pairs.py) takes that market's mid as its reference price.

Kalshi's order books are public: each paired market's book is read from its REST API every few
seconds through Kalshi's official SDK (no key needed), its mid (between the best YES bid and the
best YES ask, which is 100 - the best NO bid) turned into the Polymarket market's YES space
(100 - mid when the pair is inverted). A book with a side empty gives no price (never a guess);
a failed read leaves the last price with its time, so it ages like any reference. Markets with
no pair ask `other` (the reference feed, the up/down prices), so one source serves them all.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from contracts import kalshi_ids as wire
from engine.feeds.reference import ReferenceSource
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.kalshi_reference")
POLL_S = 2.0
HISTORY = 600  # points kept a market (20 minutes at one a poll)


def kalshi_mid(book: Any) -> int | None:
    """The mid in YES cents of an SDK `Orderbook` (its `yes_dollars` / `no_dollars` bids), or None
    when either side is empty."""
    yes = [round(float(price) * 100) for price, _ in (book.yes_dollars or [])]
    no = [round(float(price) * 100) for price, _ in (book.no_dollars or [])]
    if not yes or not no:
        return None
    bid, ask = max(yes), 100 - max(no)
    return (bid + ask) * wire.CENT // 2 if ask > bid else None


class PairedReference:
    def __init__(self, host: str, pairs: Mapping[str, tuple[str, bool]], other: ReferenceSource | None = None, *,
                 poll_s: float = POLL_S, clock_ms: Callable[[], int] = now_ms) -> None:
        """`pairs`: Polymarket condition id -> (Kalshi ticker, inverted)."""
        from engine.feeds.kalshi_client import kalshi_client

        self.client = kalshi_client(host)  # the books are public: no key
        self.pairs = dict(pairs)
        self.other = other
        self.poll_s = poll_s
        self.clock_ms = clock_ms
        self.failures = 0
        self.last_error: str | None = None
        self._latest: dict[str, tuple[int, int]] = {}
        self._history: dict[str, deque[tuple[int, int]]] = {}
        self._task: asyncio.Task[None] | None = None

    def reference(self, condition_id: str) -> tuple[int, int] | None:
        if condition_id in self.pairs:
            return self._latest.get(condition_id)
        return self.other.reference(condition_id) if self.other is not None else None

    def history(self, condition_id: str) -> tuple[tuple[int, int], ...]:
        if condition_id in self.pairs:
            return tuple(self._history.get(condition_id, ()))
        return self.other.history(condition_id) if self.other is not None else ()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kalshi-reference")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.poll_s)

    async def poll_once(self) -> int:
        """Read every paired book once; returns how many prices it took."""
        taken = 0
        for condition_id, (ticker, inverted) in sorted(self.pairs.items()):
            try:
                answer = await asyncio.to_thread(self.client.get_market_orderbook, ticker)
            except Exception as exc:  # the network or Kalshi's answer: the last price stays, and ages
                self.failures += 1
                self.last_error = f"{ticker}: {type(exc).__name__}: {exc}"[:300]
                log.warning("Kalshi book for a paired market not read", extra={"error": self.last_error})
                continue
            mid = kalshi_mid(answer.orderbook)
            if mid is None:
                continue
            self._take(condition_id, wire.CONTRACT - mid if inverted else mid)
            taken += 1
        return taken

    def _take(self, condition_id: str, price: int) -> None:
        at = self.clock_ms()
        self._latest[condition_id] = (price, at)
        points = self._history.setdefault(condition_id, deque(maxlen=HISTORY))
        if points and points[-1][1] == price:
            points.pop()  # the same price again: one point, at its latest time
        points.append((at, price))
