"""The account's Kalshi channels (engine/venues/kalshi/stream.py) survive bad records: a fill with a
count of three decimals, a fill without its price, an order in a status Kalshi does not publish, a
position without its market and a frame that is no JSON object, each among good messages, are
counted, named in `last_error` and left out, and the good messages beside them are handed on."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.venues.kalshi import models
from engine.venues.kalshi.http import KalshiSigner
from engine.venues.kalshi.stream import KalshiUserStream


def _signer() -> KalshiSigner:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return KalshiSigner("key-id", pem)


def _fill(trade: str, **changes: Any) -> str:
    msg = {"trade_id": trade, "order_id": "o-1", "market_ticker": "KXT-1", "book_side": "bid", "outcome_side": "yes",
           "count_fp": "1.50", "yes_price_dollars": "0.4550", "fee_cost": "0.0109", "is_taker": False,
           "ts_ms": 1_700_000_000_000, "client_order_id": "c-1:yes:buy", **changes}
    return json.dumps({"type": "fill", "sid": 1, "msg": {k: v for k, v in msg.items() if v is not None}})


def _order(status: str) -> str:
    return json.dumps({"type": "user_order", "sid": 2, "msg": {
        "order_id": "o-1", "client_order_id": "c-1:yes:buy", "ticker": "KXT-1", "book_side": "bid", "status": status,
        "yes_price_dollars": "0.4550", "initial_count_fp": "4.00", "fill_count_fp": "1.50",
        "remaining_count_fp": "2.50", "taker_fees_dollars": "0.0000", "maker_fees_dollars": "0.0109",
        "created_ts_ms": 1_700_000_000_000}})


def test_bad_account_messages_are_left_out_and_the_good_ones_beside_them_kept() -> None:
    fills: list[models.Fill] = []
    orders: list[models.Order] = []
    stream = KalshiUserStream("ws://127.0.0.1:1/trade-api/ws/v2", _signer(), on_fill=fills.append,
                              on_order=orders.append, on_open=lambda: None)
    frames = [
        _fill("t-1"),
        _fill("t-2", count_fp="1.005"),  # three decimals: Kalshi counts to 0.01
        _fill("t-3", yes_price_dollars=None),  # a field missing
        _order("resting"),
        _order("parked"),  # not one of Kalshi's order statuses
        json.dumps({"type": "market_position", "sid": 3, "msg": {"position_fp": "1.50"}}),
        "[1, 2, 3]",
        "not json",
        _fill("t-4", count_fp="0.37"),
        json.dumps({"type": "market_position", "sid": 3, "msg": {"market_ticker": "KXT-1", "position_fp": "1.87"}}),
    ]
    errors = []
    for frame in frames:
        before = stream.bad
        stream.on_text(frame)
        if stream.bad > before:
            errors.append(stream.last_error or "")
    assert [(f.trade_id, f.count, f.yes_price) for f in fills] == [("t-1", 1_500_000, 455_000),
                                                                    ("t-4", 370_000, 455_000)]
    assert [o.status for o in orders] == ["resting"]
    assert stream.positions == {"KXT-1": 1_870_000}
    assert stream.bad == 6 and len(errors) == 6
    assert "count_fp" in errors[0] and "yes_price_dollars" in errors[1] and "status" in errors[2]
    assert "market_ticker" in errors[3]
