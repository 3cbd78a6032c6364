"""The resolutions of the markets outside sources priced, read as soon as the venue shows them.

The model-confidence breaker (engine/risk/source_breaker.py) judges a source on the markets it
posted fair values for once their payouts are recorded. The market channel reports a resolution
only for markets the desk subscribes to, and the held-market check (resolution.py) asks only
about held ones; the market refresh closes the others without their payout. So a source would be
judged on the few markets the desk happened to trade, late or never. Before each judgement the
breaker's job asks the desk's venue, among its closed markets (its market data,
engine/venues/market_data.py `resolutions`), about every market a source posted on that has no payout
recorded yet, and records each one the venue shows resolved: the same settlement
as a missed resolution's (operator_actions.settle_resolution: the payouts on the markets row, and
any position there settled at them).

The markets are asked in batches of `BATCH` (one request each; the venue answers only those closed), at
most `MAX_PER_PASS` a pass: a source that prices thousands of
markets has them asked in turn, never in a flood that would crowd out the market refresh.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing
from typing import TYPE_CHECKING

from contracts.venue_policies import policy_for_market
from engine.trading.operator.operator_actions import settle_resolution
from engine.venues.market_data import MarketData, VenueResolution
from storage.engine_stores import source_store
from storage.sqlite.db import Database

if TYPE_CHECKING:
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.settlement.posted_resolutions")
BATCH = 50  # condition ids per request (~4 KB of query string)
MAX_PER_PASS = 1_000  # markets asked per pass: 20 requests


class PostedResolutions:
    """What is asked of the venue pass after pass, and where the next pass starts when not all fit."""

    def __init__(self) -> None:
        self._after = ""  # the last condition id asked: the next pass goes on from there
        self._refused: set[str] = set()  # vectors logged as unreadable (once each)

    def due(self, db: Database, known: set[str]) -> list[str]:
        """The markets to ask this pass: posted on, no payout recorded, the venue's (its resolutions
        asked), known to the catalog; at most MAX_PER_PASS, going round the rest in turn."""
        with db.read() as conn:
            unresolved = source_store.unresolved_posted_markets(conn)
        pending = sorted(cid for cid in unresolved if cid in known and policy_for_market(cid).resolutions_asked)
        if len(pending) <= MAX_PER_PASS:
            return pending
        later = [cid for cid in pending if cid > self._after]
        chosen = (later + [cid for cid in pending if cid <= self._after])[:MAX_PER_PASS]
        self._after = chosen[-1]
        return chosen

    async def record(self, link: TradingSite, market_data: MarketData) -> int:
        """Ask about the markets due and record each the venue shows resolved; returns how many."""
        due = await asyncio.to_thread(self.due, link.db, {m.condition_id for m in link.catalog.all()})
        if not due:
            return 0
        recorded = 0
        async with aclosing(market_data.resolutions(due, batch=BATCH)) as found:
            async for resolution in found:
                if self._record(link, resolution):
                    recorded += 1
        return recorded

    def _record(self, link: TradingSite, found: VenueResolution) -> bool:
        condition_id, payouts = found.condition_id, found.payouts
        if found.refused is not None:  # a held market's refusal is alerted by the held-market check
            if condition_id not in self._refused:
                self._refused.add(condition_id)
                log.warning("a priced market's payouts are not a vector: not scored",
                            extra={"condition_id": condition_id, "error": found.refused})
            return False
        if payouts is None:
            return False
        settle_resolution(link, condition_id, payouts)
        log.info("recorded the resolution of a market a source priced",
                 extra={"condition_id": condition_id, "payouts": payouts.label})
        return True
