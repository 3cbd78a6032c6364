"""A fill-and-kill order that partly fills, exactly as the venue reports it: the answer is
``matched`` with what traded, the rest is killed at once, it never rests or shows among open
orders, ``GET /data/order`` does not know it, and the user channel sends its trades only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from py_clob_client_v2 import MarketOrderArgs, OrderType
from py_clob_client_v2.exceptions import PolyApiException
from websockets.sync.client import connect

from simulator.testing import SimHandle, approved_simulator

from .conftest import FAST, deposit_client, subscribe_user

UNKNOWN = "0x" + "ab" * 32


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=71, **{**FAST, "allow_eoa_makers": False}) as handle:
        yield handle


def _messages_until_confirmed(ws: Any, taker_order_id: str) -> list[dict[str, Any]]:
    """Everything the user channel sends until the taker's trade is CONFIRMED."""
    seen: list[dict[str, Any]] = []
    while True:
        raw = ws.recv(timeout=5)
        if raw == "PONG":
            continue
        msg = json.loads(raw)
        seen.append(msg)
        if (msg.get("event_type") == "trade" and msg.get("taker_order_id") == taker_order_id
                and msg["status"] == "CONFIRMED"):
            return seen


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_a_partly_filled_fak_is_done_with_its_answer(sim, side):
    m = next(m for m in sim.markets() if m["fee_rate"] == "0" and not m["sports"] and not m["neg_risk"])
    sim.clear_book(m["condition_id"])
    yes = m["yes_token_id"]
    sim.place_liquidity(yes, "SELL" if side == "BUY" else "BUY", "0.5", "20")
    client, wallet = deposit_client(sim)
    if side == "SELL":
        sim.fund(wallet, token_id=yes, tokens="50")
    amount = 25 if side == "BUY" else 50  # pUSD to spend, or shares to sell: both more than the 20 there
    order = client.create_market_order(MarketOrderArgs(token_id=yes, amount=amount, side=side, price=0.5))
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, client)
        resp = client.post_order(order, OrderType.FAK)
        oid = resp["orderID"]
        seen = _messages_until_confirmed(ws, oid)
    spent, shares = ("10", "20")
    assert resp["success"] is True and resp["status"] == "matched"
    assert (resp["makingAmount"], resp["takingAmount"]) == ((spent, shares) if side == "BUY" else (shares, spent))
    assert len(resp["tradeIDs"]) == 1 and resp["transactionsHashes"] == []  # settled after the answer
    assert client.get_open_orders() == []
    assert client.get_order_book(yes)["bids" if side == "BUY" else "asks"] == []  # the rest never rested
    assert client.get_order(oid) == client.get_order(UNKNOWN) is None  # answered as for an unknown order
    assert [msg["status"] for msg in seen if msg.get("event_type") == "trade"] == ["MATCHED", "MINED", "CONFIRMED"]
    assert not [msg for msg in seen if msg.get("event_type") == "order" and msg["id"] == oid]
    bal = sim.balances(wallet)
    assert (bal["reserved_pusd"], bal["reserved_tokens"], sim.open_order_count(wallet)) == ("0", {}, 0)
    assert bal["pusd"] == ("9990" if side == "BUY" else "10010")


def test_a_fak_that_fills_nothing_is_refused(sim):
    m = next(m for m in sim.markets() if not m["sports"] and not m["neg_risk"])
    sim.clear_book(m["condition_id"])
    client, _ = deposit_client(sim)
    order = client.create_market_order(MarketOrderArgs(token_id=m["yes_token_id"], amount=5, side="BUY", price=0.5))
    with pytest.raises(PolyApiException) as exc:
        client.post_order(order, OrderType.FAK)
    assert exc.value.error_msg["error"].startswith("no orders found to match with FAK order")
