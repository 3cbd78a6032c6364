"""Order placement through the real client: order types, post-only, neg-risk,
proxy wallets, batches, and the venue's rejection messages."""

from __future__ import annotations

import secrets
import time

import pytest
from py_clob_client_v2 import (
    AssetType,
    BalanceAllowanceParams,
    CreateOrderOptions,
    MarketOrderArgs,
    OrderArgs,
    OrderType,
    PostOrdersV2Args,
)
from py_clob_client_v2.exceptions import PolyApiException
from websockets.sync.client import connect

from simulator.testing import approved_simulator

from .conftest import FAST, new_client, recv_until, subscribe_user


def _rejected(call) -> tuple[int, str]:
    with pytest.raises(PolyApiException) as exc:
        call()
    return exc.value.status_code, exc.value.error_msg["error"]


def test_gtc_rests_and_is_visible(sim, client, market):
    yes = market["yes_token_id"]
    resp = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.4, size=10, side="BUY")))
    assert resp["success"] is True and resp["status"] == "live"
    assert resp["makingAmount"] == "" and resp["transactionsHashes"] == [] and resp["tradeIDs"] == []
    assert resp["orderID"].startswith("0x") and len(resp["orderID"]) == 66
    order = client.get_order(resp["orderID"])
    assert order["status"] == "LIVE" and order["original_size"] == "10" and order["price"] == "0.4"
    assert order["maker_address"] == client.get_address() and order["order_type"] == "GTC"
    assert [o["id"] for o in client.get_open_orders()] == [resp["orderID"]]


def test_gtd_rests_then_expires():
    with approved_simulator(seed=3, gtd_buffer_s=1.0, gtd_min_lead_s=0, **FAST) as sim:  # leniency, asked for
        client = new_client(sim)
        yes = sim.market(neg_risk=False)["yes_token_id"]
        order = client.create_order(OrderArgs(token_id=yes, price=0.3, size=10, side="BUY",
                                              expiration=int(time.time()) + 3))
        resp = client.post_order(order, OrderType.GTD)
        assert resp["status"] == "live"
        assert client.get_order(resp["orderID"])["expiration"] == order.expiration
        with connect(sim.ws_host + "user", open_timeout=5) as ws:
            subscribe_user(ws, client)
            ended = recv_until(ws, lambda m: m.get("event_type") == "order" and m["id"] == resp["orderID"], 4)
        assert (ended["type"], ended["status"]) == ("CANCELLATION", "CANCELED_EXPIRED_ORDER")  # the venue's words
        assert client.get_order(resp["orderID"]) is None  # and forgotten, as the venue forgets finished orders
        assert client.get_open_orders() == []


def test_gtd_expiring_too_soon_is_rejected(client, market):
    """The venue's clients refuse an expiration closer than now + 180 s: a 150 s GTD that passed
    the simulator would fail live, so the simulator refuses it by default too."""
    for lead in (30, 150, 178):
        order = client.create_order(OrderArgs(token_id=market["yes_token_id"], price=0.3, size=10, side="BUY",
                                              expiration=int(time.time()) + lead))
        assert _rejected(lambda o=order: client.post_order(o, OrderType.GTD)) == (400, "invalid expiration")
    order = client.create_order(OrderArgs(token_id=market["yes_token_id"], price=0.3, size=10, side="BUY",
                                          expiration=int(time.time()) + 185))
    assert client.post_order(order, OrderType.GTD)["status"] == "live"


def test_fok_fills_completely_or_not_at_all(sim, client, market):
    yes = market["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.5", "20")
    too_big = client.create_market_order(MarketOrderArgs(token_id=yes, amount=12, side="BUY", price=0.5))
    assert _rejected(lambda: client.post_order(too_big, OrderType.FOK)) == (
        400, "order couldn't be fully filled. FOK orders are fully filled or killed.")
    assert client.get_order_book(yes)["asks"][-1] == {"price": "0.5", "size": "20"}
    fits = client.create_market_order(MarketOrderArgs(token_id=yes, amount=6, side="BUY", price=0.5))
    resp = client.post_order(fits, OrderType.FOK)
    assert (resp["status"], resp["makingAmount"], resp["takingAmount"]) == ("matched", "6", "12")
    assert resp["tradeIDs"] and resp["transactionsHashes"] == []  # settled after the answer


def test_market_buy_gets_price_improvement(sim, client, market):
    yes = market["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.4", "10")
    sim.place_liquidity(yes, "SELL", "0.5", "100")
    order = client.create_market_order(MarketOrderArgs(token_id=yes, amount=9, side="BUY"))  # price from book
    resp = client.post_order(order, OrderType.FOK)
    # 10 shares at 0.40 (4 pUSD) then 10 at 0.50 (5 pUSD): 20 shares for 9 pUSD.
    assert (resp["makingAmount"], resp["takingAmount"]) == ("9", "20")


def test_fak_fills_what_it_can(sim, client, market):
    yes = market["yes_token_id"]
    no_match = client.create_market_order(MarketOrderArgs(token_id=yes, amount=5, side="BUY", price=0.5))
    assert _rejected(lambda: client.post_order(no_match, OrderType.FAK)) == (
        400, "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
             "match is found.")
    sim.place_liquidity(yes, "SELL", "0.5", "10")
    order = client.create_market_order(MarketOrderArgs(token_id=yes, amount=20, side="BUY", price=0.5))
    resp = client.post_order(order, OrderType.FAK)
    assert (resp["status"], resp["makingAmount"], resp["takingAmount"]) == ("matched", "5", "10")
    assert client.get_open_orders() == []
    assert client.get_order_book(yes)["asks"] == []


def test_market_sell_needs_and_moves_tokens(sim, client, market):
    yes = market["yes_token_id"]
    sim.place_liquidity(yes, "BUY", "0.6", "50")
    sell = client.create_market_order(MarketOrderArgs(token_id=yes, amount=10, side="SELL", price=0.6))
    status, msg = _rejected(lambda: client.post_order(sell, OrderType.FOK))
    assert status == 400 and msg.startswith("not enough balance / allowance")
    sim.fund(client.get_address(), token_id=yes, tokens="10")
    resp = client.post_order(client.create_market_order(
        MarketOrderArgs(token_id=yes, amount=10, side="SELL", price=0.6)), OrderType.FOK)
    assert (resp["makingAmount"], resp["takingAmount"]) == ("10", "6")
    bal = sim.balances(client.get_address())
    # Proceeds 6 less the taker fee of this market (r = 0.05, e = 1): 10 × 0.05 × 0.6 × 0.4 = 0.12.
    assert bal["pusd"] == "10005.88" and yes not in bal["tokens"]


def test_post_only(sim, client, market):
    yes = market["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.55", "10")
    resting = client.create_order(OrderArgs(token_id=yes, price=0.54, size=10, side="BUY"))
    placed = client.post_order(resting, OrderType.GTC, post_only=True)
    assert placed["status"] == "live"
    crossing = client.create_order(OrderArgs(token_id=yes, price=0.55, size=10, side="BUY"))
    # Refused inside a 200: success true, the reason in errorMsg, and no order id.
    refused = client.post_order(crossing, OrderType.GTC, post_only=True)
    assert (refused["success"], refused["errorMsg"], refused["orderID"], refused["status"]) == (
        True, "invalid post-only order: order crosses book", "", "")
    assert [o["id"] for o in client.get_open_orders()] == [placed["orderID"]]  # nothing else rests


def test_neg_risk_market_orders(sim, client, nr_market):
    yes = nr_market["yes_token_id"]
    assert client.get_neg_risk(yes) is True
    sim.place_liquidity(yes, "SELL", "0.3", "100")
    resp = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.3, size=20, side="BUY")))
    assert (resp["status"], resp["takingAmount"]) == ("matched", "20")
    fok = client.create_market_order(MarketOrderArgs(token_id=yes, amount=6, side="BUY", price=0.3))
    assert client.post_order(fok, OrderType.FOK)["takingAmount"] == "20"


def test_proxy_wallet_signature_type_2(sim, market):
    funder = "0x" + secrets.token_hex(20)
    client = new_client(sim, signature_type=2, funder=funder)
    yes = market["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.5", "100")
    order = client.create_order(OrderArgs(token_id=yes, price=0.5, size=10, side="BUY"))
    assert order.maker == funder and order.signer == client.get_address()
    assert client.post_order(order)["status"] == "matched"
    assert sim.balances(funder)["pusd"] == "9994.875"  # 5 and the taker fee 10 × 0.05 × 0.5 × 0.5
    assert sim.balances(client.get_address())["pusd"] == "10000"  # the EOA holds nothing
    bal = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert bal["balance"] == "9994875000"


def test_batch_orders(sim, client, market):
    yes = market["yes_token_id"]
    args = [PostOrdersV2Args(order=client.create_order(OrderArgs(token_id=yes, price=p, size=10, side="BUY")),
                             orderType=OrderType.GTC) for p in (0.31, 0.32, 0.33)]
    bad = client.builder.build_order(OrderArgs(token_id=yes, price=0.335, size=10, side="BUY"),
                                     CreateOrderOptions(tick_size="0.001", neg_risk=False))
    resp = client.post_orders(args + [PostOrdersV2Args(order=bad, orderType=OrderType.GTC)])
    assert [r["success"] for r in resp] == [True, True, True, False]
    assert "breaks minimum tick size rule: 0.01" in resp[3]["errorMsg"]
    assert len(client.get_open_orders()) == 3
    too_many = args * 6  # 18 > 15
    assert _rejected(lambda: client.post_orders(too_many)) == (
        400, "Too many orders in payload: 18, max allowed: 15")


def test_rejections(sim, client, market):
    yes = market["yes_token_id"]
    off_tick = client.builder.build_order(OrderArgs(token_id=yes, price=0.405, size=10, side="BUY"),
                                          CreateOrderOptions(tick_size="0.001", neg_risk=False))
    status, msg = _rejected(lambda: client.post_order(off_tick))
    assert status == 400 and msg.endswith("is invalid. Price (0.405) breaks minimum tick size rule: 0.01")
    small = client.create_order(OrderArgs(token_id=yes, price=0.4, size=2, side="BUY"))
    assert _rejected(lambda: client.post_order(small))[1].endswith(
        f"is invalid. Size (2) lower than the minimum: {market['min_size']}")
    huge = client.create_order(OrderArgs(token_id=yes, price=0.5, size=30000, side="BUY"))
    status, msg = _rejected(lambda: client.post_order(huge))
    assert msg.startswith("not enough balance / allowance: the balance is not enough -> balance: 10000000000")
    ok = client.create_order(OrderArgs(token_id=yes, price=0.4, size=10, side="BUY"))
    first = client.post_order(ok)
    assert _rejected(lambda: client.post_order(ok)) == (
        400, f"order {first['orderID']} is invalid. Duplicated.")
    sell = client.create_order(OrderArgs(token_id=yes, price=0.6, size=10, side="SELL"))
    assert _rejected(lambda: client.post_order(sell))[1].startswith("not enough balance / allowance")


def test_fine_tick_market_order_decimals_rule(sim):
    client = new_client(sim)
    fine = next(m for m in sim.markets() if m["tick_size"] == "0.001" and not m["neg_risk"])
    sim.clear_book(fine["condition_id"])
    sim.place_liquidity(fine["yes_token_id"], "SELL", "0.985", "100")
    args = MarketOrderArgs(token_id=fine["yes_token_id"], amount=9.98, side="BUY")
    order = client.create_market_order(args)
    assert order.takerAmount == "10131970"  # 5 decimals: the known client/venue mismatch
    assert _rejected(lambda: client.post_order(order, OrderType.FAK)) == (
        400, "invalid amounts, the market buy orders maker amount supports a max accuracy of 2 decimals, "
             "taker amount a max of 4 decimals")
