"""How an order ends: a fill-and-kill or fill-or-kill is FILLED once anything traded (its
`filled` says how much) and CANCELED when nothing did; a resting order is FILLED only when its
fills cover it. The same rule for the venue's answer, its later report, a lookup that finds the
order gone, and a cancel acknowledgement."""

from __future__ import annotations

import pytest

from contracts.order_status import OrderStatus, VenueOrderStatus, ended, from_venue

SH = 1_000_000
SIZE = 40 * SH


@pytest.mark.parametrize(("take", "filled", "status"), [
    (True, 40 * SH, OrderStatus.FILLED),
    (True, 10 * SH, OrderStatus.FILLED),  # a partly filled FAK: the venue cancelled the rest
    (True, 0, OrderStatus.CANCELED),
    (False, 40 * SH, OrderStatus.FILLED),
    (False, 40 * SH - 9_999, OrderStatus.FILLED),  # all but rounding dust (under a 0.01-share lot)
    (False, 40 * SH - 10_000, OrderStatus.CANCELED),  # a whole lot left: a part nobody filled
    (False, 10 * SH, OrderStatus.CANCELED),  # a resting order cancelled part-way keeps what it filled
    (False, 0, OrderStatus.CANCELED),
])
def test_how_an_order_ends(take: bool, filled: int, status: OrderStatus) -> None:
    assert ended(size=SIZE, filled=filled, take=take) is status
    for report in (VenueOrderStatus.CANCELED, VenueOrderStatus.UNMATCHED):
        assert from_venue(report, size=SIZE, filled=filled, take=take) is status


def test_a_take_is_done_with_its_match_and_a_resting_order_is_not() -> None:
    assert from_venue(VenueOrderStatus.MATCHED, size=SIZE, filled=10 * SH, take=True) is OrderStatus.FILLED
    assert from_venue(VenueOrderStatus.MATCHED, size=SIZE, filled=10 * SH, take=False) is OrderStatus.PARTIALLY_FILLED
    assert from_venue(VenueOrderStatus.INVALID, size=SIZE, filled=0, take=True) is OrderStatus.REJECTED


def test_a_matched_order_with_rounding_dust_left_is_filled() -> None:
    """The venue ends an order MATCHED with a rounding remainder (size matched just under the
    original) and then forgets it: it is done, not a partly filled order still working."""
    for status in (VenueOrderStatus.MATCHED, VenueOrderStatus.LIVE):
        assert from_venue(status, size=SIZE, filled=SIZE - 1, take=False) is OrderStatus.FILLED
        assert from_venue(status, size=SIZE, filled=SIZE - 10_000, take=False) is OrderStatus.PARTIALLY_FILLED


def test_a_status_the_venue_has_not_sent_before_leaves_the_order_working() -> None:
    assert from_venue(VenueOrderStatus.UNKNOWN, size=SIZE, filled=0) is OrderStatus.LIVE
    assert from_venue(VenueOrderStatus.UNKNOWN, size=SIZE, filled=10 * SH) is OrderStatus.PARTIALLY_FILLED
