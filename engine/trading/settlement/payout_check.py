"""What the venue's contract says a redemption pays, read before and after it (a venue whose
settlement is a `PayoutSource`: a Protocol V2 market's PositionManager).

The ledger books as cash only what the venue reports it paid (its activity, engine/execution/
credits.py): a read of a contract is what a redemption would pay, not a payment, and it leaves no
record a restart could find again. So the read decides whether a transaction is worth sending and
checks the payment once reported, and never books anything:

- **before** each position's redemption, for all the wallet holds of it: a revert because the
  market has no result on chain yet (the venue's listing can say resolved first) holds the
  redemption back, unsent and unalerted, until a later run reads a result; a payout of 0 (a
  losing position: a valid answer) where the ledger is owed something means the ledger and the
  contract disagree on the result: nothing is sent (a transaction would pay nothing) and it is
  alerted once (`REDEEM_PAYS_NOTHING`); any other revert is alerted once (`PAYOUT_UNREADABLE`);
  a positive payout is sent and shown with the answer;
- **after**, once the venue reports the redemption, what it says it paid for the shares it burned
  is compared with what the contract computes for them; a difference is alerted
  (`REDEEM_PAYOUT_DIFFERS`), the cash booked staying the venue's figure (the wallet sync then
  settles which is right).

A venue that does not answer the read is asked again at the next run; nothing is sent meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from contracts.domain import fmt
from engine.venues.base import VenueError
from engine.venues.settlement import PayoutSource, PositionPayout
from storage.desk.audit import raise_alert

if TYPE_CHECKING:
    from engine.execution.credits import Booked
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.settlement.payout_check")


class PayoutCheck:
    def __init__(self, link: TradingSite):
        self.link = link
        self._alerted: set[tuple[str, str]] = set()  # (code, position) said once

    async def before(self, condition_id: str, position: str, owed: int) -> tuple[dict[str, Any] | None, int | None]:
        """(the answer standing instead of a redemption, or None to send it; what it is expected to pay)."""
        venue = self.link.settlement
        if not isinstance(venue, PayoutSource):
            return None, None
        answer = {"condition_id": condition_id, "position": position, "owed": fmt(owed)}
        try:
            payout = await venue.position_payout(position)
        except VenueError as exc:
            log.warning("a position's payout could not be read", extra={"position": position, "error": str(exc)})
            return answer | {"sent": None, "outcome": "unknown",
                             "note": f"the payout could not be read ({exc}): asked again at the next run"}, None
        if payout.shares <= 0:
            return None, None  # nothing held: the redemption says so (redeemed already)
        if payout.amount is None:
            return self._not_payable(answer, payout), None
        if payout.amount == 0 and owed > 0:
            self._alert_once("REDEEM_PAYS_NOTHING", position,
                             f"the contract says the {fmt(payout.shares)} shares held of position {position[:12]}… "
                             f"in market {condition_id[:14]}… pay 0 pUSD (a losing position) where the ledger is "
                             f"owed {fmt(owed)}: not redeemed; check the market's result")
            return answer | {"sent": False, "outcome": "pays nothing", "shares": fmt(payout.shares)}, 0
        return None, payout.amount

    def _not_payable(self, answer: dict[str, Any], payout: PositionPayout) -> dict[str, Any]:
        if payout.waiting:
            log.info("a redemption waits for the market's result on chain", extra={"position": payout.position_id})
            return answer | {"sent": False, "outcome": "unresolved",
                             "note": f"{payout.reason}: redeemed once the contract has it"}
        self._alert_once("PAYOUT_UNREADABLE", payout.position_id,
                         f"the payout of position {payout.position_id[:12]}… could not be read: {payout.reason}; "
                         "not redeemed")
        return answer | {"sent": False, "outcome": "refused", "note": payout.reason}

    async def after(self, booked: Iterable[Booked]) -> None:
        """Each one-position redemption the venue reported, checked against the contract's payout."""
        venue = self.link.settlement
        if not isinstance(venue, PayoutSource):
            return
        for entry in booked:
            credit = entry.credit
            if credit.kind != "redeem" or credit.token_id is None:
                continue
            try:
                payout = await venue.position_payout(credit.token_id, credit.shares)
            except VenueError as exc:
                log.warning("a redemption's payout could not be checked", extra={"tx": credit.tx_hash,
                                                                                  "error": str(exc)})
                continue
            if payout.amount is not None and payout.amount != credit.amount:
                self._alert_once("REDEEM_PAYOUT_DIFFERS", credit.tx_hash,
                                 f"the venue reports {fmt(credit.amount)} pUSD paid for redeeming "
                                 f"{fmt(credit.shares)} shares of position {credit.token_id[:12]}… where the contract "
                                 f"computes {fmt(payout.amount)}: the cash booked is the venue's figure; compare the "
                                 "wallet's balance")

    def _alert_once(self, code: str, key: str, message: str) -> None:
        if (code, key) in self._alerted:
            return
        self._alerted.add((code, key))
        with self.link.executor.tx() as conn:
            raise_alert(conn, level="warning", source="venue", code=code, message=message)
