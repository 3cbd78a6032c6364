"""How a live Kalshi position ends in cash: Kalshi settles a market by itself once it is `finalized`,
paying each net position into the balance, and its settlements list says how much, per market
(`revenue`, whole cents: a payout is rounded down to the cent, the rest is the settlement's fee).
There is nothing to redeem and nothing to merge (Kalshi nets YES and NO at once: the ledger books
that itself, engine/trading/settlement/pair_netting.py), so this settlement venue only reports what Kalshi
paid, as the desk's credits, booked from Kalshi's own records.

- A `yes` or `no` result is paid once the desk knows the market resolved (`resolved`): the
  resolution writes the claim the payment pays. Read before it, the payment would be booked as cash
  nobody was owed beside a claim opened later (the money twice). Left unreported, it is read again at
  the next pass (credits are re-read a day back: engine/execution/credits.py).
- A `scalar` result (a binary market may settle at a value: Kalshi's Market Lifecycle page) is listed
  as a refund first, each side's contracts closing at what a contract of it paid (a YES `value`
  cents, a NO the rest of the dollar: engine/trading/settlement/void_refunds.py books it), and its payment only
  once that is booked.
- A void is no longer in Kalshi's published results, and how one shows now is not documented: the
  desk takes the stricter reading and books whatever Kalshi reports without a value it can read (a
  `scalar` settlement with no `value`) as a void: each side's contracts closing at what they cost
  (`*_total_cost_dollars`), the payment booked as Kalshi made it. Either way the cash booked is what
  Kalshi paid, so the ledger's cash equals Kalshi's balance.

A settlement record the desk cannot read (an unknown result, a count with three decimals) changes
nothing: it is named once in `problems` for the caller to alert on, and read again at the next pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from contracts.domain import ONE, Outcome
from contracts.kalshi_ids import market_id, settlement_ref
from contracts.kalshi_settings import KalshiSettings
from engine.feeds import kalshi_models as models
from engine.feeds.kalshi_client import KalshiClient
from engine.feeds.kalshi_fixed import KalshiShapeError
from engine.feeds.kalshi_http import KalshiError
from engine.venues.base import VenueError, VenueUnavailable
from engine.venues.settlement import SettlementTx, VenueCredit, VenueRefund

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
        self.client = KalshiClient.at(settings.host, settings.api_key_id, settings.private_key.reveal(),
                                      timeout_s=timeout_s)
        self.resolved = resolved
        self.problems: list[str] = []  # records read but not understood, each named once
        self._refunded: set[str] = set()  # markets settled at a value or voided whose positions the ledger booked
        self._read: tuple[float, list[models.Settlement]] | None = None  # (monotonic time, the settlements read)

    async def credits(self, since_ms: int) -> list[VenueCredit]:
        """What Kalshi paid for the markets the desk has seen resolve (or whose refund it booked),
        oldest first."""
        out = []
        for record in await self._settlements():
            cid = market_id(record.ticker)
            if record.settled_ms < since_ms or record.revenue <= 0:
                continue
            if record.market_result in ("yes", "no") and self.resolved(cid):
                shares = record.yes_count if record.market_result == "yes" else record.no_count
            elif record.market_result == "scalar" and cid in self._refunded:
                shares = record.yes_count + record.no_count
            else:
                continue
            out.append(VenueCredit("redeem", record.revenue, settlement_ref(record.ticker), record.settled_ms, cid,
                                   shares))
        return sorted(out, key=lambda c: c.at_ms)

    async def refunds(self, since_ms: int) -> list[VenueRefund]:
        """The markets Kalshi settled at a value, or voided, since `since_ms`, oldest first: each side
        closing at what a contract of it paid (a value) or cost (a void)."""
        out = []
        for record in await self._settlements(keep=True):
            if record.market_result != "scalar" or record.settled_ms < since_ms:
                continue
            if record.value_cents is None:  # how the desk reads a void (the stricter reading: module docstring)
                yes_price = record.yes_cost * ONE // record.yes_count if record.yes_count else None
                no_price = record.no_cost * ONE // record.no_count if record.no_count else None
            else:
                yes_price, no_price = record.value_cents * 10_000, ONE - record.value_cents * 10_000
            out.append(VenueRefund(market_id(record.ticker), record.yes_count, record.yes_cost, record.no_count,
                                   record.no_cost, record.revenue, settlement_ref(record.ticker), record.settled_ms,
                                   yes_price=yes_price, no_price=no_price, voided=record.value_cents is None))
        return sorted(out, key=lambda r: r.at_ms)

    async def results(self, since_ms: int) -> list[tuple[str, Outcome]]:
        """(condition id, the outcome that won) of each market Kalshi settled `yes` or `no` since `since_ms`."""
        return [(market_id(record.ticker), Outcome.YES if record.market_result == "yes" else Outcome.NO)
                for record in await self._settlements(keep=True)
                if record.market_result in ("yes", "no") and record.settled_ms >= since_ms]

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
        await self.client.close()

    async def _settlements(self, *, keep: bool = False) -> list[models.Settlement]:
        """The list, read now; or, once, what `refunds` just read (`keep`: read for the credits next)."""
        read, self._read = self._read, None
        if read is not None and not keep and time.monotonic() - read[0] < REUSE_S:
            return read[1]
        try:
            records, problems = await self.client.settlements_read()
        except (KalshiError, KalshiShapeError) as exc:  # read again at the next pass
            raise VenueUnavailable(f"Kalshi settlements: {exc}"[:300]) from None
        self.problems += [p for p in problems if p not in self.problems]
        if keep:
            self._read = (time.monotonic(), records)
        return records
