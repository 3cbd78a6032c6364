"""The resolutions of the markets outside sources priced, read as soon as the venue shows them.

The model-confidence breaker (engine/risk/source_breaker.py) judges a source on the markets it
posted fair values for once their payouts are recorded. The market channel reports a resolution
only for markets the desk subscribes to, and the held-market check (resolution.py) asks only
about held ones; the market refresh closes the others without their payout. So a source would be
judged on the few markets the desk happened to trade, late or never. Before each judgement the
breaker's job asks Gamma, including closed markets, about every market a source posted on that
has no payout recorded yet, and records each one the venue shows resolved: the same settlement
as a missed resolution's (operator_actions.settle_resolution: the payouts on the markets row, and
any position there settled at them).

The markets are asked in batches of `BATCH` (`condition_ids` repeated; with `closed=true` Gamma
answers only those closed), at most `MAX_PER_PASS` a pass: a source that prices thousands of
markets has them asked in turn, never in a flood that would crowd out the market refresh.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from contracts.payouts import PayoutError
from contracts.venue_policies import policy_for_market
from engine.trading.operator.operator_actions import settle_resolution
from engine.trading.settlement.resolution import venue_payouts
from engine.venues.polymarket.rest import RestClient
from storage.engine_stores import source_store
from storage.sqlite.db import Database

if TYPE_CHECKING:
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.settlement.posted_resolutions")
BATCH = 50  # condition ids per Gamma request (~4 KB of query string)
MAX_PER_PASS = 1_000  # markets asked per pass: 20 requests


class PostedResolutions:
    """What is asked of Gamma pass after pass, and where the next pass starts when not all fit."""

    def __init__(self) -> None:
        self._after = ""  # the last condition id asked: the next pass goes on from there
        self._refused: set[str] = set()  # vectors logged as unreadable (once each)

    def due(self, db: Database, known: set[str]) -> list[str]:
        """The markets to ask this pass: posted on, no payout recorded, the venue's (asked of
        Gamma), known to the catalog; at most MAX_PER_PASS, going round the rest in turn."""
        with db.read() as conn:
            unresolved = source_store.unresolved_posted_markets(conn)
        pending = sorted(cid for cid in unresolved if cid in known and policy_for_market(cid).resolutions_asked)
        if len(pending) <= MAX_PER_PASS:
            return pending
        later = [cid for cid in pending if cid > self._after]
        chosen = (later + [cid for cid in pending if cid <= self._after])[:MAX_PER_PASS]
        self._after = chosen[-1]
        return chosen

    async def record(self, link: TradingSite) -> int:
        """Ask about the markets due and record each the venue shows resolved; returns how many."""
        due = await asyncio.to_thread(self.due, link.db, {m.condition_id for m in link.catalog.all()})
        if not due:
            return 0
        rest = RestClient(link.settings.gamma_host)
        recorded = 0
        try:
            for start in range(0, len(due), BATCH):
                batch = due[start:start + BATCH]
                raws = await rest.get_json("/markets", {"condition_ids": batch, "closed": "true", "limit": BATCH},
                                           family="gamma")
                asked = set(batch)
                for raw in raws if isinstance(raws, list) else []:
                    if isinstance(raw, dict) and raw.get("conditionId") in asked and self._record(link, raw):
                        recorded += 1
        finally:
            await rest.close()
        return recorded

    def _record(self, link: TradingSite, raw: dict[str, Any]) -> bool:
        condition_id = str(raw["conditionId"])
        try:
            payouts = venue_payouts(raw)
        except PayoutError as exc:  # a held market's refusal is alerted by the held-market check
            if condition_id not in self._refused:
                self._refused.add(condition_id)
                log.warning("a priced market's payouts are not a vector: not scored",
                            extra={"condition_id": condition_id, "error": str(exc)})
            return False
        if payouts is None:
            return False
        settle_resolution(link, condition_id, payouts)
        log.info("recorded the resolution of a market a source priced",
                 extra={"condition_id": condition_id, "payouts": payouts.label})
        return True
