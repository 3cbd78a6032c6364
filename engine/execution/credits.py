"""Booking what the venue paid: redemptions, merges, maker rebates and liquidity rewards, as it reports them.

Read from the venue (engine/venues/settlement.py) and booked once each (engine/execution/
claims.py), in the executor's transaction, so cash is never more nor less than the venue
paid: a restart's wallet sync then finds nothing to adjust. Start-up runs it before that
sync (engine/execution/recovery.py), the trading core every few seconds after.

Only credits since the desk started in this mode count: what the venue paid before is in
the collateral the first sync booked as the starting deposit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from contracts.domain import fmt
from contracts.venues import desk_venue, venue_of
from engine.execution import claims
from engine.failpoints import crash_point
from engine.venues.settlement import CreditSource, VenueCredit
from storage.desk.audit import raise_alert
from storage.engine_stores import execution_ledger

if TYPE_CHECKING:
    from engine.execution.executor import Executor

log = logging.getLogger("engine.credits")
OVERLAP_MS = 86_400_000  # re-read a day before the newest booked credit: the venue's list may lag


@dataclass(frozen=True, slots=True)
class Booked:
    credit: VenueCredit
    booking: claims.Booking


def window(ex: Executor) -> tuple[int, int] | None:
    """(when the desk's cash in this mode began, where to read from: a day before the newest
    credit booked, never before that beginning); None: no cash yet, so nothing to book."""
    with ex.db.read_own() as conn:
        start = execution_ledger.initial_deposit_at(conn, ex.mode, ex.venue_name)
        newest = execution_ledger.newest_credit_at(conn, ex.mode, ex.venue_name)
    if start is None:
        return None
    return start, start if newest is None else max(start, newest - OVERLAP_MS)


async def book_venue_credits(ex: Executor, venue: CreditSource) -> list[Booked]:
    """Read the venue's credits and book the new ones; returns what was booked now."""
    span = window(ex)
    if span is None:
        return []
    began, read_from = span
    booked = []
    for credit in await venue.credits(read_from):
        if credit.at_ms // 1000 < began // 1000:  # paid before the desk began: in the starting collateral
            continue
        if (venue_of(credit.condition_id) if credit.condition_id else desk_venue()) != ex.venue_name:
            continue  # another venue's ledger's (a paper settlement book serves every paper venue)
        booked_one = _book(ex, _of_one_outcome(ex, credit))
        if booked_one.booking.booked:
            booked.append(booked_one)
    return booked


def _of_one_outcome(ex: Executor, credit: VenueCredit) -> VenueCredit:
    """A redemption pays one outcome's claims only when it burned one outcome: a Protocol V2 market's,
    redeemed through its Router a position at a time. Any other names none (it burned both)."""
    market = ex.catalog.get(credit.condition_id) if credit.token_id and credit.condition_id else None
    return credit if market is not None and market.protocol_v2 else replace(credit, token_id=None)


def _book(ex: Executor, credit: VenueCredit) -> Booked:
    crash_point("credit_before_booked")
    now = ex.clock()
    with ex.tx() as conn:
        booking = claims.book_credit(conn, ex.mode, credit, now)
        if booking.booked:
            _alert(conn, credit, booking)
    crash_point("credit_after_booked")
    if booking.booked:
        ex.state.cash += booking.amount
        ex.state.redeemable -= booking.claimed
        log.info("venue credit booked", extra={"kind": credit.kind, "amount": credit.amount,
                                               "condition_id": credit.condition_id, "tx": credit.tx_hash,
                                               "claimed": booking.claimed})
    return Booked(credit, booking)


def _alert(conn: Connection, credit: VenueCredit, booking: claims.Booking) -> None:
    where = f" in market {credit.condition_id[:14]}…" if credit.condition_id else ""  # a payment may name none
    if credit.kind == "rebate":
        raise_alert(conn, level="info", source="venue", code="MAKER_REBATE",
                    message=f"the venue paid a maker rebate of {fmt(credit.amount)} pUSD (booked as cash)")
        return
    if credit.kind == "reward":
        raise_alert(conn, level="info", source="venue", code="LIQUIDITY_REWARD",
                    message=f"the venue paid {fmt(credit.amount)} pUSD of liquidity rewards (booked as cash)")
        return
    what = "redemption" if credit.kind == "redeem" else "merge"
    if not booking.claims:
        if credit.amount:
            raise_alert(conn, level="warning", source="venue", code="CREDIT_UNCLAIMED",
                        message=f"the venue paid {fmt(credit.amount)} pUSD for a {what}{where} the ledger "
                                "owed nothing for (shares held outside the engine?): booked as cash")
        return
    if booking.claimed != credit.amount:
        raise_alert(conn, level="warning", source="venue", code="REDEMPTION_MISMATCH",
                    message=f"the {what}{where} paid {fmt(credit.amount)} pUSD where the ledger expected "
                            f"{fmt(booking.claimed)}: the cash booked is what the venue paid")
        return
    raise_alert(conn, level="info", source="venue", code="REDEEMED" if credit.kind == "redeem" else "MERGED",
                message=f"the venue paid {fmt(credit.amount)} pUSD for the {what}{where}: now cash")
