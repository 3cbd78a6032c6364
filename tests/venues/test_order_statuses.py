"""Every order status the venue can send, read from payloads captured from it: a `CANCELED_<reason>`
is a cancellation with that reason, a CANCELLATION message ends the order whatever its status says,
a status never seen before is said once in the log and leaves the order working, and no message,
however bad, costs the other messages of its frame."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from contracts.order_status import OrderStatus, from_venue
from engine.venues.base import OrderEvent, VenueOrderStatus, venue_status
from engine.venues.polymarket.user_ws import UserFeed
from engine.venues.polymarket.wire import Identity, place_result, user_events, venue_order

CAPTURED = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket" / "captured"
ME = Identity.of(["00000000-0000-0000-0000-000000000001"], [])
FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."


def captured(name: str) -> dict[str, Any]:
    return json.loads((CAPTURED / f"ws_user_order_{name}.json").read_text())


@pytest.mark.parametrize(("name", "status", "reason", "filled", "ours"), [
    ("fok_killed", VenueOrderStatus.CANCELED, FOK_KILLED, 0, OrderStatus.CANCELED),
    ("cancellation", VenueOrderStatus.CANCELED, None, 0, OrderStatus.CANCELED),
    ("matched", VenueOrderStatus.MATCHED, None, 100_000_000, OrderStatus.FILLED),
    # The venue cancelled a resting order with status INVALID: a cancellation, not a refusal.
    ("venue_cancel", VenueOrderStatus.CANCELED, "INVALID", 0, OrderStatus.CANCELED),
])
def test_captured_order_messages(name: str, status: VenueOrderStatus, reason: str | None, filled: int,
                                 ours: OrderStatus) -> None:
    raw = captured(name)
    [event] = user_events(raw, ME)  # with or without `event_type`: each is an order message
    assert isinstance(event, OrderEvent) and event.order == venue_order(raw)
    order = event.order
    assert (order.venue_order_id, order.status, order.reason, order.filled) == (raw["id"], status, reason, filled)
    take = raw["order_type"] in ("FOK", "FAK")
    assert from_venue(order.status, size=order.size, filled=order.filled, take=take) is ours


@pytest.mark.parametrize(("raw", "status", "reason"), [
    ("CANCELED_NOT_ENOUGH_BALANCE", VenueOrderStatus.CANCELED, "NOT_ENOUGH_BALANCE"),
    ("CANCELED_EXPIRED_ORDER", VenueOrderStatus.CANCELED, "EXPIRED_ORDER"),
    ("CANCELED_ORDER_TIMED_OUT", VenueOrderStatus.CANCELED, "ORDER_TIMED_OUT"),
    ("CANCELED_MARKET_NOT_FOUND", VenueOrderStatus.CANCELED, "MARKET_NOT_FOUND"),
    ("CANCELED_MARKET_RESOLVED", VenueOrderStatus.CANCELED, "MARKET_RESOLVED"),
    ("ORDER_STATUS_CANCELED_EXPIRED_ORDER", VenueOrderStatus.CANCELED, "EXPIRED_ORDER"),
    ("cancelled_expired_order", VenueOrderStatus.CANCELED, "expired_order"),
    (f"CANCELED_{FOK_KILLED}", VenueOrderStatus.CANCELED, FOK_KILLED),
    ("CANCELED", VenueOrderStatus.CANCELED, None),
    ("ORDER_STATUS_LIVE", VenueOrderStatus.LIVE, None),
    ("unmatched", VenueOrderStatus.UNMATCHED, None),
])
def test_every_cancellation_reason_is_a_cancellation(raw: str, status: VenueOrderStatus, reason: str | None) -> None:
    assert venue_status(raw) == (status, reason)
    message = dict(captured("cancellation"), status=raw, type="UPDATE", event_type="order")
    assert (venue_order(message).status, venue_order(message).reason) == (status, reason)


def test_an_unknown_status_is_said_once_and_leaves_the_order_working(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "engine.venues.polymarket.venue")
    first = venue_order(dict(captured("matched"), status="PAUSED_BY_VENUE", size_matched="25", type="UPDATE"))
    second = venue_order(dict(captured("matched"), status="PAUSED_BY_VENUE", size_matched="25", type="UPDATE"))
    assert first.status is second.status is VenueOrderStatus.UNKNOWN
    assert from_venue(first.status, size=first.size, filled=first.filled) is OrderStatus.PARTIALLY_FILLED
    said = [r for r in caplog.records if "unknown order status" in r.getMessage()]
    assert len(said) == 1 and said[0].status == "PAUSED_BY_VENUE"  # type: ignore[attr-defined]  # the log record's extra field
    answer = place_result({"success": True, "errorMsg": "", "orderID": "0xa", "status": "queued_somewhere"}, "0xa")
    assert answer.status is VenueOrderStatus.UNKNOWN  # an accepted order, not a crash


def test_a_message_that_cannot_be_read_costs_nothing_else_of_its_frame(caplog: pytest.LogCaptureFixture) -> None:
    got: list[Any] = []

    def on_message(raw: dict[str, Any]) -> None:
        got.extend(user_events(raw, ME))

    async def connected() -> None:
        return None

    feed = UserFeed("ws://127.0.0.1:1", {}, on_message, connected)
    broken = dict(captured("fok_killed"), event_type="order")
    del broken["side"]
    frame = [dict(captured("fok_killed"), id="0x1"), broken, dict(captured("venue_cancel"), event_type="order"),
             dict(captured("matched"), status="SOMETHING_NEW", event_type="order")]
    with caplog.at_level(logging.WARNING):
        feed.on_text(json.dumps(frame))
    assert [(e.order.venue_order_id, e.order.status) for e in got] == [
        ("0x1", VenueOrderStatus.CANCELED), ("0x0e", VenueOrderStatus.CANCELED),
        (captured("matched")["id"], VenueOrderStatus.UNKNOWN)]
    assert any("could not be read" in r.getMessage() for r in caplog.records)


def test_a_cancellation_message_ends_the_order_whatever_word_it_uses() -> None:
    for word, reason in (("CANCELED", None), ("CANCELED_EXPIRED_ORDER", "EXPIRED_ORDER"), ("INVALID", "INVALID"),
                         ("REMOVED_BY_VENUE", "REMOVED_BY_VENUE")):
        order = venue_order(dict(captured("cancellation"), status=word))  # type CANCELLATION
        assert (order.status, order.reason) == (VenueOrderStatus.CANCELED, reason), word
