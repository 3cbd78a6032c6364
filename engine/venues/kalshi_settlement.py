"""How a live Kalshi position ends in cash: Kalshi settles a determined market by itself, paying each
winning contract 100 cents into the balance (its portfolio's settlements list says how much, per
market). There is nothing to redeem and nothing to merge (Kalshi nets YES and NO at once: the ledger
books that itself, engine/trading/kalshi_netting.py), so this settlement venue only reports what
Kalshi paid, as the desk's credits.

A market's settlement is reported only once the desk knows the market resolved (`resolved`): the
resolution writes the claim the payment pays. Read before it, the payment would be booked as cash
nobody was owed beside a claim opened later (the money twice). Left unreported, it is read again at
the next pass (credits are re-read a day back: engine/execution/credits.py).

A market Kalshi voids (`market_result` `void`: "all positions returned at original cost", its SDK
says) has no winner to resolve at: it is listed as a refund first, with each side's contracts and
cost (engine/trading/kalshi_voids.py books it), and its payment only once that refund is booked.
A `scalar` settlement is not read: pairing refuses a scalar market (engine/cli/pairs.py), so the
desk holds none.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from contracts.kalshi_ids import CENT, CONTRACT, market_id, settlement_ref
from contracts.kalshi_settings import KalshiSettings
from engine.feeds.kalshi_client import kalshi_client
from engine.venues.base import VenueError, VenueUnavailable
from engine.venues.settlement import SettlementTx, VenueCredit, VenueRefund

PAGE = 200
TIMEOUT_S = 10.0
REUSE_S = 5.0  # a collections pass asks for refunds, then credits: the refunds' read serves the credits once
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
        self._refunded: set[str] = set()  # voided markets whose refund the ledger has booked
        self._read: tuple[float, list[Any]] | None = None  # (monotonic time, the settlements read)

    async def credits(self, since_ms: int) -> list[VenueCredit]:
        """Kalshi's settlements of markets the desk has seen resolve (or whose void it booked),
        oldest first."""
        out = []
        for record in await self._settlements():
            at_ms = int(record.settled_time.timestamp() * 1000)
            cid = market_id(record.ticker)
            if at_ms < since_ms or record.revenue <= 0:
                continue
            if record.market_result == "void" and cid in self._refunded:
                shares = record.yes_count + record.no_count
            elif record.market_result in ("yes", "no") and self.resolved(cid):
                shares = record.yes_count if record.market_result == "yes" else record.no_count
            else:
                continue
            out.append(VenueCredit("redeem", record.revenue * CENT, settlement_ref(record.ticker), at_ms, cid,
                                   shares * CONTRACT))
        return sorted(out, key=lambda c: c.at_ms)

    async def refunds(self, since_ms: int) -> list[VenueRefund]:
        """The markets Kalshi voided since `since_ms`, oldest first."""
        out = []
        for record in await self._settlements(keep=True):
            at_ms = int(record.settled_time.timestamp() * 1000)
            if record.market_result == "void" and at_ms >= since_ms:
                out.append(VenueRefund(market_id(record.ticker), record.yes_count * CONTRACT,
                                       record.yes_total_cost * CENT, record.no_count * CONTRACT,
                                       record.no_total_cost * CENT, record.revenue * CENT,
                                       settlement_ref(record.ticker), at_ms))
        return sorted(out, key=lambda r: r.at_ms)

    def refund_booked(self, condition_id: str) -> None:
        self._refunded.add(condition_id)

    async def redeem(self, condition_id: str, neg_risk: bool) -> SettlementTx:
        raise VenueError(NOTHING_TO_SEND)

    async def redeem_position(self, condition_id: str, position_id: str) -> SettlementTx:
        raise VenueError(NOTHING_TO_SEND)

    async def merge(self, condition_id: str, neg_risk: bool, amount: int, protocol_v2: bool = False) -> SettlementTx:
        raise VenueError(NOTHING_TO_SEND)

    async def transaction(self, ref: str) -> SettlementTx:
        return SettlementTx(ref, "confirmed", tx_hash=ref, via="kalshi")  # (only the netting's, booked at once)

    async def auto_redeem_approved(self, protocol_v2: bool = False) -> bool:
        return False

    async def approve_auto_redeem(self, protocol_v2: bool = False) -> SettlementTx:
        raise VenueError(NOTHING_TO_SEND)

    async def close(self) -> None:
        return None

    async def _settlements(self, *, keep: bool = False) -> list[Any]:
        """The list, read now; or, once, what `refunds` just read (`keep`: read for the credits next)."""
        read, self._read = self._read, None
        if read is not None and not keep and time.monotonic() - read[0] < REUSE_S:
            return read[1]
        items = await self._read_settlements()
        if keep:
            self._read = (time.monotonic(), items)
        return items

    async def _read_settlements(self) -> list[Any]:
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
