"""Order and fill status ranks: statuses only move forward, and terminal is terminal.

Every status write is a compare-and-set on the rank (`WHERE status_rank < :new`), so a late
or duplicated venue report can never move an order backwards, whatever order events arrive in.
"""

from __future__ import annotations

from enum import StrEnum

from contracts.venue_rules import LOT


class VenueOrderStatus(StrEnum):
    """Order statuses as the venue reports them, normalised (no ORDER_STATUS_ prefix). Every
    `CANCELED_<reason>` the venue sends (`CANCELED_MARKET_RESOLVED`, `CANCELED_EXPIRED_ORDER`,
    a killed FOK's "CANCELED_order couldn't be fully filled...") is CANCELED with its reason
    beside it (`VenueOrder.reason`); UNKNOWN is a status the venue has not sent before, read as
    "still working" until the venue says more."""

    LIVE = "LIVE"
    MATCHED = "MATCHED"
    DELAYED = "DELAYED"
    UNMATCHED = "UNMATCHED"
    CANCELED = "CANCELED"
    INVALID = "INVALID"
    UNKNOWN = "UNKNOWN"


class TradeStatus(StrEnum):
    """Trade (fill) statuses as the venue names them, without REST's TRADE_STATUS_ prefix.

    MATCHED_NOT_BROADCASTED (REST only: matched, settlement not yet sent), MATCHED and RETRYING
    (the settlement transaction failed and is being sent again) are pending; MINED and
    CONFIRMED are settled; FAILED reverses the fill."""

    MATCHED_NOT_BROADCASTED = "MATCHED_NOT_BROADCASTED"
    MATCHED = "MATCHED"
    MINED = "MINED"
    CONFIRMED = "CONFIRMED"
    RETRYING = "RETRYING"
    FAILED = "FAILED"


PENDING_FILL = (TradeStatus.MATCHED_NOT_BROADCASTED, TradeStatus.MATCHED, TradeStatus.RETRYING)
SETTLED_FILL = (TradeStatus.MINED, TradeStatus.CONFIRMED)
# For people (filters, help): pending, then settled, then reversed.
FILL_LIFECYCLE = (*PENDING_FILL, *SETTLED_FILL, TradeStatus.FAILED)


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


ENDED = (VenueOrderStatus.CANCELED, VenueOrderStatus.UNMATCHED)


def covered(*, size: int, filled: int) -> bool:
    """Whether fills cover an order: all of it, or all but rounding dust. Sizes travel in lots of
    0.01 share, so a remainder under one lot is no unfilled part anyone asked for: it is what the
    venue's rounding of budget-sized market orders left (it ends such an order MATCHED)."""
    return filled >= covered_at(size)


def covered_at(size: int) -> int:
    """The least `filled` that covers an order of `size` (`covered`): what the ledger's SQL compares
    an order's fill total with, so the rule stays written once."""
    return size - LOT + 1


def ended(*, size: int, filled: int, take: bool) -> OrderStatus:
    """What an order that no longer works at the venue ends as. A fill-and-kill or fill-or-kill
    (`take`) is FILLED once anything traded (its `filled` says how much; the venue cancelled the
    rest) and CANCELED when nothing did; a resting order is FILLED only when its fills cover it
    (dust aside: `covered`). So FILLED never promises filled == size: read `filled`."""
    if take:
        return OrderStatus.FILLED if filled > 0 else OrderStatus.CANCELED
    return OrderStatus.FILLED if covered(size=size, filled=filled) else OrderStatus.CANCELED


def from_venue(status: VenueOrderStatus, *, size: int, filled: int, take: bool = False) -> OrderStatus:
    """Map a venue report (plus how much has filled) to our status.

    A fill-and-kill or fill-or-kill (`take`) never rests: once the venue has matched it, it is
    done (see `ended`). A delayed order that could not match ends UNMATCHED. A MATCHED order
    with only rounding dust left is FILLED: the venue is done with it and forgets it."""
    if status in ENDED or (take and status is VenueOrderStatus.MATCHED):
        return ended(size=size, filled=filled, take=take)
    if status is VenueOrderStatus.INVALID:
        return OrderStatus.REJECTED
    if covered(size=size, filled=filled):
        return OrderStatus.FILLED
    if filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return OrderStatus.LIVE  # LIVE, DELAYED, UNKNOWN and a MATCHED report without size


# A fill's status moves only up these ranks. RETRYING ranks above MINED: a mined settlement the
# chain reorganised away is being sent again, so its shares are pending once more; one that was
# RETRYING stays pending until CONFIRMED (or FAILED), never settled on an intermediate MINED.
FILL_RANK: dict[TradeStatus, int] = {
    TradeStatus.MATCHED_NOT_BROADCASTED: 5,
    TradeStatus.MATCHED: 10,
    TradeStatus.MINED: 20,
    TradeStatus.RETRYING: 25,
    TradeStatus.CONFIRMED: 30,
    TradeStatus.FAILED: 100,
}
