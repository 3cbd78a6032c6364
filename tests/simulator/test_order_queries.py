"""Cancels, open-order and trade queries (with pagination), balances and
reservations, and the heartbeat dead-man switch, via the real client."""

from __future__ import annotations

import base64
import time

import httpx
import pytest
from py_clob_client_v2 import (
    AssetType,
    BalanceAllowanceParams,
    OpenOrderParams,
    OrderArgs,
    OrderMarketCancelParams,
    OrderPayload,
    OrderType,
    TradeParams,
)
from py_clob_client_v2.clob_types import RequestArgs
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.headers.headers import create_level_2_headers

from simulator.testing import approved_simulator

from .conftest import FAST, new_client, wait_for


def _bid(client, token_id: str, price: float, size: float = 10) -> str:
    return client.post_order(client.create_order(OrderArgs(token_id=token_id, price=price, size=size,
                                                           side="BUY")))["orderID"]


def test_cancel_one_many_all_and_by_market(sim, client, market, nr_market):
    yes, no = market["yes_token_id"], market["no_token_id"]
    a, b, c = (_bid(client, yes, p) for p in (0.31, 0.32, 0.33))
    d = _bid(client, no, 0.2)
    e = _bid(client, nr_market["yes_token_id"], 0.1, 20)
    assert client.cancel_order(OrderPayload(orderID=a)) == {"canceled": [a], "not_canceled": {}}
    unknown = "0x" + "ab" * 32
    resp = client.cancel_orders([b, a, unknown])
    assert resp == {"canceled": [b],
                    "not_canceled": {a: "already canceled or matched", unknown: "order not found"}}
    resp = client.cancel_market_orders(OrderMarketCancelParams(asset_id=no))
    assert resp["canceled"] == [d]
    resp = client.cancel_market_orders(OrderMarketCancelParams(market=market["condition_id"]))
    assert resp["canceled"] == [c]
    assert client.cancel_all() == {"canceled": [e], "not_canceled": {}}
    assert client.get_open_orders() == []
    assert client.get_order(a) is None  # the venue forgets finished orders
    assert client.get_order_book(yes)["bids"] == []


def test_cancel_someone_elses_order_is_refused(sim, client, market):
    other = new_client(sim)
    oid = _bid(other, market["yes_token_id"], 0.3)
    resp = client.cancel_order(OrderPayload(orderID=oid))
    assert resp == {"canceled": [], "not_canceled": {oid: "order not found"}}
    assert client.get_order(oid) is None
    assert other.get_order(oid)["status"] == "LIVE"


def test_pagination_of_orders_and_trades_ends_at_lte():
    with approved_simulator(seed=5, page_size=3, **FAST) as sim:
        client = new_client(sim)
        m = sim.market(neg_risk=False)
        yes = m["yes_token_id"]
        ids = [_bid(client, yes, round(0.10 + i / 100, 2)) for i in range(8)]
        orders = client.get_open_orders()
        assert [o["id"] for o in orders] == ids  # three pages: 3 + 3 + 2
        assert client.get_open_orders(OpenOrderParams(id=ids[4]))[0]["id"] == ids[4]
        first = client.get_open_orders(only_first_page=True)
        assert len(first) == 3
        _raw_first_page(sim, client)
        for _ in range(7):
            sim.place_liquidity(yes, "SELL", "0.1", "1")  # each fills part of our best bid
        trades = wait_for(lambda: (t := client.get_trades()) and len(t) == 7 and t)
        assert len({t["id"] for t in trades}) == 7
        assert all(t["trader_side"] == "MAKER" for t in trades)
        one = wait_for(lambda: (t := client.get_trades(TradeParams(id=trades[0]["id"]))) and t[0]["transaction_hash"]
                       and t)  # the hash shows once the trade's transaction is out
        assert len(one) == 1 and one[0]["transaction_hash"].startswith("0x")
        by_market = client.get_trades(TradeParams(market=m["condition_id"], asset_id=yes))
        assert len(by_market) == 7


def _raw_first_page(sim, client) -> None:
    headers = create_level_2_headers(client.signer, client.creds, RequestArgs("GET", "/data/orders"))
    body = httpx.get(sim.clob_host + "/data/orders", params={"next_cursor": "MA=="}, headers=headers).json()
    assert body["next_cursor"] == base64.b64encode(b"3").decode()  # the next offset
    assert body["count"] == 3 and body["limit"] == 3


def test_trade_by_id_and_taker_view(sim, client, market):
    yes = market["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.45", "10")
    resp = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.45, size=10, side="BUY")))
    trade_id = resp["tradeIDs"][0]
    assert resp["transactionsHashes"] == []  # settlement is asynchronous: the answer names the trade only
    [trade] = client.get_trades(TradeParams(id=trade_id))
    summary = (trade["side"], trade["size"], trade["price"], trade["trader_side"])
    assert summary == ("BUY", "10", "0.45", "TAKER")
    assert trade["maker_orders"][0]["matched_amount"] == "10"
    assert client.get_order(resp["orderID"]) is None  # filled on arrival: never rested


def test_balances_and_reservations(sim, client, market):
    yes = market["yes_token_id"]
    collateral = BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
    bal = client.get_balance_allowance(collateral)
    assert bal["balance"] == "10000000000"
    assert set(bal["allowances"]) == {"0xE111180000d2663C0091e4f400237545B87B996B",
                                      "0xe2222d279d744050d28e00520010520000310F59",
                                      "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296",
                                      "0xAdA100Db00Ca00073811820692005400218FcE1f",  # the collateral adapters
                                      "0xadA2005600Dec949baf300f4C6120000bDB6eAab"}  # (pre-approved wallets)
    _bid(client, yes, 0.5, 19000)  # reserves 9500 pUSD
    assert client.get_balance_allowance(collateral)["balance"] == "10000000000"  # total, as on-chain
    with pytest.raises(PolyApiException) as exc:
        _bid(client, yes, 0.5, 1001)
    assert "balance: 10000000000, sum of active orders: 9500000000, order amount: 500500000" in str(exc.value)
    sim.place_liquidity(yes, "SELL", "0.5", "100")
    conditional = BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=yes)
    cond = client.get_balance_allowance(conditional)
    assert cond["balance"] == "100000000"
    assert client.get_balance_allowance(collateral)["balance"] == "9950000000"
    assert sim.balances(client.get_address())["reserved_pusd"] == "9450"
    client.cancel_all()
    assert sim.balances(client.get_address())["reserved_pusd"] == "0"


def test_heartbeat_cancels_orders_after_timeout(sim, market):
    beating, silent, never = new_client(sim), new_client(sim), new_client(sim)
    yes = market["yes_token_id"]
    ids = {}
    for c in (beating, silent, never):
        ids[c] = _bid(c, yes, 0.2)
    hb = {c: c.post_heartbeat()["heartbeat_id"] for c in (beating, silent)}
    deadline = time.monotonic() + 5  # the suite's heartbeat timeout is 1 s
    while silent.get_order(ids[silent]) is not None:  # beating, until the silent one's is cancelled (forgotten)
        assert time.monotonic() < deadline, "the silent session's orders were never cancelled"
        answer = beating.post_heartbeat(hb[beating])["heartbeat_id"]
        assert answer and answer != hb[beating]  # every ack names the id for the next send
        hb[beating] = answer
        time.sleep(0.25)
    assert beating.get_order(ids[beating])["status"] == "LIVE"
    assert never.get_order(ids[never])["status"] == "LIVE"
    with pytest.raises(PolyApiException) as exc:
        silent.post_heartbeat(hb[silent])  # the session ended with the cancel: start afresh
    assert exc.value.status_code == 400
    assert exc.value.error_msg == {"error_msg": "Invalid Heartbeat ID", "heartbeat_id": ""}
    assert silent.post_heartbeat()["heartbeat_id"]
    stats = sim.heartbeats()
    assert stats[silent.creds.api_key]["dead_man_cancelled"] == 1
    assert stats[beating.creds.api_key]["dead_man_cancelled"] == 0


def test_a_stale_heartbeat_id_is_refused_with_the_expected_one_and_moves_no_deadline(sim, market):
    client = new_client(sim)
    order_id = _bid(client, market["yes_token_id"], 0.2)
    first = client.post_heartbeat()["heartbeat_id"]
    second = client.post_heartbeat(first)["heartbeat_id"]
    began = time.monotonic()
    for stale in (first, ""):  # an old id, or trying to restart the chain while it lives
        with pytest.raises(PolyApiException) as exc:
            client.post_heartbeat(stale)
        assert exc.value.status_code == 400
        assert exc.value.error_msg == {"error_msg": "Invalid Heartbeat ID", "heartbeat_id": second}
    # Refusals do not refresh the deadline: the 1 s timeout runs out from the last accepted beat (were
    # they to refresh it, the refusals sent every 0.1 s would keep the order alive to the bound, which
    # is a loaded machine's margin, not the switch's timing).
    while client.get_order(order_id) is not None:  # live, until cancelled (and forgotten)
        assert time.monotonic() - began < 30, "the dead-man switch never fired"
        with pytest.raises(PolyApiException):
            client.post_heartbeat(first)
        time.sleep(0.1)
    stats = sim.heartbeats()[client.creds.api_key]
    assert stats["accepted"] == 2 and stats["refused_stale"] >= 3 and stats["dead_man_cancelled"] == 1
    assert not stats["chain_alive"]


def test_a_dropped_heartbeat_answer_was_processed_and_the_400_names_the_id_to_use():
    with approved_simulator(seed=5, heartbeat_drop_rate=1.0) as lossy:
        client = new_client(lossy)
        with pytest.raises(PolyApiException):
            client.post_heartbeat()  # accepted, but the answer never comes back
        lossy.set_faults(heartbeat_drop_rate=0.0)
        with pytest.raises(PolyApiException) as exc:
            client.post_heartbeat()  # "" again: the chain it started lives, so this is a mismatch
        expected = exc.value.error_msg["heartbeat_id"]
        assert expected and client.post_heartbeat(expected)["heartbeat_id"]
        stats = lossy.heartbeats()[client.creds.api_key]
        assert (stats["accepted"], stats["answers_dropped"], stats["refused_stale"]) == (2, 1, 1)


def test_order_types_are_reported(sim, client, market):
    yes = market["yes_token_id"]
    order = client.create_order(OrderArgs(token_id=yes, price=0.2, size=10, side="BUY",
                                          expiration=int(time.time()) + 3600))
    oid = client.post_order(order, OrderType.GTD)["orderID"]
    assert client.get_order(oid)["order_type"] == "GTD"
