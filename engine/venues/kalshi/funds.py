"""What the live Kalshi venue says before the desk places, and the money it moves on the operator's word
(engine/venues/base.py `SectionedFunds`, reached as `KalshiVenue.funds`):

- the markets whose new orders Kalshi would refuse now: those on a shard short of their cost (shards.py;
  sales of contracts held still go), those of a category a lapsed location attestation bars
  (attestation.py), and, in the minute after a cancel-all, any order that would rest (Kalshi's Cancel All
  Orders page: "newly placed orders may also be cancelled during the minute after the request");
- each shard's money, what moves between them and the shortfalls, for the operator (`funding`);
- a transfer between shards or a target allocation, only when the operator confirmed it, sent once (a
  transfer is not idempotent: one whose answer was lost is never sent again by the desk).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from contracts.venues.kalshi.ids import ticker_of
from engine.venues.base import QuoteHold, VenueError
from engine.venues.kalshi.attestation import LocationCheck
from engine.venues.kalshi.client import KalshiClient
from engine.venues.kalshi.shards import Shards

log = logging.getLogger("engine.venues.kalshi.funds")
T = TypeVar("T")
SWEPT_MS = 60_000  # Cancel All Orders: "newly placed orders may also be cancelled during the minute after"


def now_ms() -> int:
    return int(time.time() * 1000)


class KalshiFunds:
    def __init__(self, client: KalshiClient, shard_of: Callable[[str], int | None], key_id: str,
                 call: Callable[[Awaitable[Any]], Awaitable[Any]], every_s: float) -> None:
        """`call`: the venue's wrapper of a client call (Kalshi's errors as the desk's venue errors); `every_s`:
        how often a short shard's balance is read again."""
        self.client = client
        self.shards = Shards(client, shard_of)
        self.location = LocationCheck(client, key_id)
        self.call = call
        self.every_s = every_s
        self.swept_until = 0  # ms: Kalshi may cancel orders placed before then (a cancel-all's minute)
        self._refresh: asyncio.Task[None] | None = None

    def swept(self) -> None:
        """The desk just sent a cancel-all."""
        self.swept_until = now_ms() + SWEPT_MS

    def quote_holds(self, wanted: Mapping[str, Sequence[tuple[int, int]]],
                    resting: Mapping[str, Sequence[tuple[int, int]]], now: int) -> dict[str, QuoteHold]:
        tickers = {ticker_of(cid): cid for cid in wanted}
        unknown, short = self.shards.judge({ticker_of(c): b for c, b in wanted.items()},
                                           {ticker_of(c): b for c, b in resting.items()})
        out = {tickers[t]: QuoteHold(why, "VENUE_UNFUNDED", sells=True) for t, why in unknown.items()}
        for shortfall in short:
            out.update({tickers[t]: QuoteHold(shortfall.words(), "VENUE_UNFUNDED", sells=True)
                        for t in shortfall.markets})
        if short and (self.shards.read_ms is None or now - self.shards.read_ms >= self.every_s * 1000):
            self.refresh_soon()  # read again soon: a transfer or a fill may have funded it
        for ticker, why in self.location.holds(sorted(tickers), now).items():
            out[tickers[ticker]] = QuoteHold(why, "VENUE_RESTRICTED")
        if now < self.swept_until:
            why = ("Kalshi may cancel any order placed in the minute after the desk's cancel-all (its Cancel All "
                   f"Orders page): orders that would rest wait until {(self.swept_until - now) // 1000} s from now")
            for cid in wanted:
                out.setdefault(cid, QuoteHold(why, "VENUE_MAINTENANCE", takes=True))
        return out

    def funding(self) -> dict[str, object]:
        return {**self.shards.report(), "swept_until": self.swept_until or None}

    async def move_funds(self, source: int, destination: int, amount: int) -> dict[str, object]:
        """A transfer between shards the operator confirmed: sent once, then followed until Kalshi's balance
        shows it arrived."""
        transfer_id = await self.call(self.client.account.transfer(source=source, destination=destination,
                                                                   amount=amount))
        asked = {"transfer_id": transfer_id, "source": source, "destination": destination, "amount": amount,
                 "at_ms": now_ms()}
        self.shards.asked.insert(0, asked)
        self.refresh_soon()
        return {**asked, "status": "accepted, not arrived: Kalshi processes it asynchronously"}

    async def set_allocation(self, split: Mapping[int, int]) -> dict[str, object]:
        await self.call(self.client.account.set_target_allocation(dict(split)))
        asked: dict[str, object] = {"allocation": {str(s): p for s, p in sorted(split.items())}, "at_ms": now_ms()}
        self.shards.asked.insert(0, asked)
        return {**asked, "status": "set: Kalshi rebalances the free money toward it every 10 s"}

    def refused(self, refusal: str) -> None:
        """Kalshi refused an order for a short balance: its shards are read again at once."""
        if "insufficient_balance" in refusal or "available_balance_too_low" in refusal:
            self.refresh_soon()

    def refresh_soon(self) -> None:
        if self._refresh is not None and not self._refresh.done():
            return

        async def read() -> None:
            try:
                await self.call(self.shards.refresh(now_ms()))
            except VenueError as exc:
                log.warning("Kalshi's shard balances could not be read", extra={"error": str(exc)})

        self._refresh = asyncio.get_running_loop().create_task(read(), name="kalshi-shards")

    async def close(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            await asyncio.gather(self._refresh, return_exceptions=True)
            self._refresh = None
