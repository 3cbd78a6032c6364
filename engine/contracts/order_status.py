"""Order and fill status ranks: statuses only move forward, and terminal is terminal.

Every status write is a compare-and-set on the rank (`WHERE status_rank < :new`), so a late
or duplicated venue report can never move an order backwards, whatever order events arrive in.
"""

from __future__ import annotations

from enum import StrEnum


class VenueOrderStatus(StrEnum):
    """Order statuses as the venue reports them, normalised (no ORDER_STATUS_ prefix)."""

    LIVE = "LIVE"
    MATCHED = "MATCHED"
    DELAYED = "DELAYED"
    UNMATCHED = "UNMATCHED"
    CANCELED = "CANCELED"
    CANCELED_MARKET_RESOLVED = "CANCELED_MARKET_RESOLVED"
    INVALID = "INVALID"


class TradeStatus(StrEnum):
    MATCHED = "MATCHED"
    MINED = "MINED"
    CONFIRMED = "CONFIRMED"
    RETRYING = "RETRYING"
    FAILED = "FAILED"


class OrderStatus(StrEnum):
    PENDING_SUBMIT = "PENDING_SUBMIT"  # committed locally, not yet acknowledged by the venue
    LIVE = "LIVE"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    CANCEL_PENDING = "CANCEL_PENDING"  # cancel sent, no ACK yet: its size stays reserved
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    LOST = "LOST"  # never reached the venue as far as anyone can tell; never resubmitted


RANK: dict[OrderStatus, int] = {
    OrderStatus.PENDING_SUBMIT: 0,
    OrderStatus.LIVE: 10,
    OrderStatus.PARTIALLY_FILLED: 20,
    OrderStatus.CANCEL_PENDING: 30,
    OrderStatus.FILLED: 100,
    OrderStatus.CANCELED: 100,
    OrderStatus.REJECTED: 100,
    OrderStatus.LOST: 100,
}
TERMINAL_RANK = 100


ENDED = (VenueOrderStatus.CANCELED, VenueOrderStatus.CANCELED_MARKET_RESOLVED, VenueOrderStatus.UNMATCHED)


def ended(*, size: int, filled: int, take: bool) -> OrderStatus:
    """What an order that no longer works at the venue ends as. A fill-and-kill or fill-or-kill
    (`take`) is FILLED once anything traded (its `filled` says how much; the venue cancelled the
    rest) and CANCELED when nothing did; a resting order is FILLED only when its fills cover it.
    So FILLED never promises filled == size: read `filled`."""
    if take:
        return OrderStatus.FILLED if filled > 0 else OrderStatus.CANCELED
    return OrderStatus.FILLED if filled >= size else OrderStatus.CANCELED


def from_venue(status: VenueOrderStatus, *, size: int, filled: int, take: bool = False) -> OrderStatus:
    """Map a venue report (plus how much has filled) to our status.

    A fill-and-kill or fill-or-kill (`take`) never rests: once the venue has matched it, it is
    done (see `ended`). A delayed order that could not match ends UNMATCHED."""
    if status in ENDED or (take and status is VenueOrderStatus.MATCHED):
        return ended(size=size, filled=filled, take=take)
    if status is VenueOrderStatus.INVALID:
        return OrderStatus.REJECTED
    if filled >= size:
        return OrderStatus.FILLED
    if filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return OrderStatus.LIVE  # LIVE, DELAYED and a MATCHED report without size


FILL_RANK: dict[TradeStatus, int] = {
    TradeStatus.MATCHED: 10,
    TradeStatus.RETRYING: 15,
    TradeStatus.MINED: 20,
    TradeStatus.CONFIRMED: 30,
    TradeStatus.FAILED: 100,
}
