"""How an order ends: a fill-and-kill or fill-or-kill is FILLED once anything traded (its
`filled` says how much) and CANCELED when nothing did; a resting order is FILLED only when its
fills cover it. The same rule for the venue's answer, its later report, a lookup that finds the
order gone, and a cancel acknowledgement."""

from __future__ import annotations

import pytest

from engine.contracts.order_status import OrderStatus, VenueOrderStatus, ended, from_venue

SIZE = 40


@pytest.mark.parametrize(("take", "filled", "status"), [
    (True, 40, OrderStatus.FILLED),
    (True, 10, OrderStatus.FILLED),  # a partly filled FAK: the venue cancelled the rest
    (True, 0, OrderStatus.CANCELED),
    (False, 40, OrderStatus.FILLED),
    (False, 10, OrderStatus.CANCELED),  # a resting order cancelled part-way keeps what it filled
    (False, 0, OrderStatus.CANCELED),
])
def test_how_an_order_ends(take: bool, filled: int, status: OrderStatus) -> None:
    assert ended(size=SIZE, filled=filled, take=take) is status
    for report in (VenueOrderStatus.CANCELED, VenueOrderStatus.UNMATCHED):
        assert from_venue(report, size=SIZE, filled=filled, take=take) is status


def test_a_take_is_done_with_its_match_and_a_resting_order_is_not() -> None:
    assert from_venue(VenueOrderStatus.MATCHED, size=SIZE, filled=10, take=True) is OrderStatus.FILLED
    assert from_venue(VenueOrderStatus.MATCHED, size=SIZE, filled=10, take=False) is OrderStatus.PARTIALLY_FILLED
    assert from_venue(VenueOrderStatus.INVALID, size=SIZE, filled=0, take=True) is OrderStatus.REJECTED
