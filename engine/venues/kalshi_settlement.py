"""How a live Kalshi position ends in cash: Kalshi settles a determined market by itself, paying each
winning contract 100 cents into the balance (its portfolio's settlements list says how much, per
market). There is nothing to redeem and nothing to merge (Kalshi nets YES and NO at once: the ledger
books that itself, engine/trading/kalshi_netting.py), so this settlement venue only reports what
Kalshi paid, as the desk's credits.

A market's settlement is reported only once the desk knows the market resolved (`resolved`): the
resolution writes the claim the payment pays. Read before it, the payment would be booked as cash
nobody was owed beside a claim opened later (the money twice). Left unreported, it is read again at
the next pass (credits are re-read a day back: engine/execution/credits.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from contracts.kalshi_ids import CENT, CONTRACT, market_id
from contracts.kalshi_settings import KalshiSettings
from engine.feeds.kalshi_client import kalshi_client
from engine.venues.base import VenueError, VenueUnavailable
from engine.venues.settlement import SettlementTx, VenueCredit

PAGE = 200
TIMEOUT_S = 10.0
NOTHING_TO_SEND = ("Kalshi pays a settled market into the balance by itself and nets YES with NO at once: "
                   "there is nothing to redeem, merge or approve")


class KalshiSettlement:
    def __init__(self, settings: KalshiSettings, resolved: Callable[[str], bool], *,
                 timeout_s: float = TIMEOUT_S) -> None:
        if not settings.configured:
            raise VenueError("Kalshi is not configured: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY (or seal them)")
        assert settings.private_key is not None
        self.client = kalshi_client(settings.host, settings.api_key_id, settings.private_key.reveal(), timeout_s)
        self.resolved = resolved

    async def credits(self, since_ms: int) -> list[VenueCredit]:
        """Kalshi's settlements of markets the desk has seen resolve, oldest first."""
        out = []
        for record in await self._settlements():
            at_ms = int(record.settled_time.timestamp() * 1000)
            cid = market_id(record.ticker)
            if at_ms < since_ms or record.revenue <= 0 or not self.resolved(cid):
                continue
            won = record.yes_count if record.market_result == "yes" else record.no_count
            out.append(VenueCredit("redeem", record.revenue * CENT, f"kalshi-settlement:{record.ticker}", at_ms,
                                   cid, won * CONTRACT))
        return sorted(out, key=lambda c: c.at_ms)

    async def redeem(self, condition_id: str, neg_risk: bool) -> SettlementTx:
        raise VenueError(NOTHING_TO_SEND)

    async def merge(self, condition_id: str, neg_risk: bool, amount: int) -> SettlementTx:
        raise VenueError(NOTHING_TO_SEND)

    async def transaction(self, ref: str) -> SettlementTx:
        return SettlementTx(ref, "confirmed", tx_hash=ref, via="kalshi")  # (only the netting's, booked at once)

    async def auto_redeem_approved(self) -> bool:
        return False

    async def approve_auto_redeem(self) -> SettlementTx:
        raise VenueError(NOTHING_TO_SEND)

    async def close(self) -> None:
        return None

    async def _settlements(self) -> list[Any]:
        items: list[Any] = []
        cursor = None
        while True:
            try:
                page = await asyncio.to_thread(self.client.get_settlements, limit=PAGE, cursor=cursor)
            except Exception as exc:  # the SDK's errors and urllib3's: read again at the next pass
                raise VenueUnavailable(f"Kalshi settlements: {type(exc).__name__}: {exc}"[:300]) from None
            items += page.settlements or []
            cursor = page.cursor
            if not cursor:
                return items
