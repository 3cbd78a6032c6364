"""Matching through the real client: price-time priority, the YES/NO mirror
(mint and merge), partial fills, balances and the trade status pipeline."""

from __future__ import annotations

from decimal import Decimal

from py_clob_client_v2 import MarketOrderArgs, OrderArgs, OrderType, TradeParams
from websockets.sync.client import connect

from simulator.testing import approved_simulator

from .conftest import FAST, new_client, recv_until, subscribe_user, wait_for


def _order(client, token_id: str, side: str, price: float, size: float) -> dict:
    args = OrderArgs(token_id=token_id, price=price, size=size, side=side)
    return client.post_order(client.create_order(args))


def _pusd(sim, client) -> Decimal:
    return Decimal(sim.balances(client.get_address())["pusd"])


def test_price_time_priority(sim, market):
    yes = market["yes_token_id"]
    a, b, c, taker = (new_client(sim) for _ in range(4))
    for maker in (a, b, c):
        sim.fund(maker.get_address(), token_id=yes, tokens="10")
    first = _order(a, yes, "SELL", 0.52, 10)["orderID"]
    second = _order(b, yes, "SELL", 0.52, 10)["orderID"]
    better = _order(c, yes, "SELL", 0.51, 10)["orderID"]
    resp = _order(taker, yes, "BUY", 0.52, 25)
    [trade] = taker.get_trades(TradeParams(id=resp["tradeIDs"][0]))
    legs = [(m["order_id"], m["matched_amount"], m["price"]) for m in trade["maker_orders"]]
    assert legs == [(better, "10", "0.51"), (first, "10", "0.52"), (second, "5", "0.52")]
    # 10 * 0.51 + 15 * 0.52 = 12.9 paid (price improvement on the first 10).
    assert resp["makingAmount"] == "12.9" and resp["takingAmount"] == "25"
    left = b.get_order(second)
    assert (left["status"], left["size_matched"]) == ("LIVE", "5")
    assert a.get_order(first) is None  # filled, then forgotten as the venue forgets finished orders
    assert taker.get_order_book(yes)["asks"] == [{"price": "0.52", "size": "5"}]


def test_complementary_buys_mint(sim, market):
    yes, no = market["yes_token_id"], market["no_token_id"]
    buy_no, buy_yes = new_client(sim), new_client(sim)
    _order(buy_no, no, "BUY", 0.45, 10)
    # The NO bid at 0.45 shows up as a YES ask at 0.55.
    assert buy_yes.get_order_book(yes)["asks"] == [{"price": "0.55", "size": "10"}]
    resp = _order(buy_yes, yes, "BUY", 0.55, 10)
    assert resp["status"] == "matched"
    yes_bal, no_bal = sim.balances(buy_yes.get_address()), sim.balances(buy_no.get_address())
    # The taker pays 5.5 and its fee (this market: r = 0.05, e = 1): 10 × 0.05 × 0.55 × 0.45 = 0.12375.
    assert (yes_bal["pusd"], yes_bal["tokens"]) == ("9994.37625", {yes: "10"})
    assert (no_bal["pusd"], no_bal["tokens"]) == ("9995.5", {no: "10"})
    [trade] = buy_yes.get_trades(TradeParams(id=resp["tradeIDs"][0]))
    maker = trade["maker_orders"][0]
    assert (maker["asset_id"], maker["side"], maker["price"]) == (no, "BUY", "0.45")


def test_complementary_sells_merge(sim, market):
    yes, no = market["yes_token_id"], market["no_token_id"]
    sell_yes, sell_no = new_client(sim), new_client(sim)
    sim.fund(sell_yes.get_address(), token_id=yes, tokens="10")
    sim.fund(sell_no.get_address(), token_id=no, tokens="10")
    _order(sell_yes, yes, "SELL", 0.6, 10)
    resp = _order(sell_no, no, "SELL", 0.4, 10)
    assert (resp["makingAmount"], resp["takingAmount"]) == ("10", "4")
    assert _pusd(sim, sell_yes) == Decimal("10006")  # the maker pays no fee
    assert _pusd(sim, sell_no) == Decimal("10004") - Decimal("0.12")  # taker fee 10 × 0.05 × 0.4 × 0.6
    assert sim.balances(sell_yes.get_address())["tokens"] == {}


def test_partial_fill_keeps_the_rest_resting(sim, market):
    yes = market["yes_token_id"]
    maker, taker = new_client(sim), new_client(sim)
    oid = _order(maker, yes, "BUY", 0.4, 100)["orderID"]
    sim.fund(taker.get_address(), token_id=yes, tokens="30")
    resp = _order(taker, yes, "SELL", 0.4, 30)
    assert (resp["makingAmount"], resp["takingAmount"]) == ("30", "12")
    order = maker.get_order(oid)
    assert (order["status"], order["size_matched"]) == ("LIVE", "30")
    assert order["associate_trades"] == resp["tradeIDs"]
    assert maker.get_order_book(yes)["bids"] == [{"price": "0.4", "size": "70"}]
    bal = sim.balances(maker.get_address())
    assert (bal["pusd"], bal["reserved_pusd"], bal["tokens"]) == ("9988", "28", {yes: "30"})


def test_rounding_dust_ends_the_maker_matched_and_is_not_kept(sim, market):
    """Budget-sized market BUYs match in micro-shares: two of them leave a 10-share ask with
    0.000001 share, which no order can take in lots of 0.01. The venue ends such an order MATCHED
    with size_matched just under its size, releases the rest and forgets it."""
    yes = market["yes_token_id"]
    maker, taker = new_client(sim), new_client(sim)
    sim.fund(maker.get_address(), token_id=yes, tokens="10")
    oid = _order(maker, yes, "SELL", 0.3, 10)["orderID"]
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, maker)
        for budget in (1.99, 1.01):  # 6.633333 then 3.366666 shares at 0.30
            taker.post_order(taker.create_market_order(
                MarketOrderArgs(token_id=yes, amount=budget, side="BUY", price=0.3)), OrderType.FOK)
        ended = recv_until(ws, lambda m: m.get("event_type") == "order" and m["status"] != "LIVE")
    assert (ended["id"], ended["type"], ended["status"]) == (oid, "UPDATE", "MATCHED")
    assert (ended["original_size"], ended["size_matched"]) == ("10", "9.999999")
    assert maker.get_order(oid) is None and maker.get_open_orders() == []
    assert maker.get_order_book(yes)["asks"] == []  # the dust left with the order
    bal = sim.balances(maker.get_address())
    assert (bal["tokens"], bal["reserved_tokens"]) == ({yes: "0.000001"}, {})


def _seller_and_buyer(sim, yes: str):
    """A maker resting 10 shares for sale at 0.5, and a taker client to buy them."""
    maker, taker = new_client(sim), new_client(sim)
    sim.fund(maker.get_address(), token_id=yes, tokens="10")
    _order(maker, yes, "SELL", 0.5, 10)
    return maker, taker


def _rest_statuses(client, trade_id: str, statuses: tuple[str, ...]) -> list[str]:
    """Wait for the trade to read each REST status in turn (the prefixed names)."""
    return [wait_for(lambda: (t := client.get_trades(TradeParams(id=trade_id))[0])
                     and t["status"] == "TRADE_STATUS_" + status and status, timeout=3) for status in statuses]


def _pushed(ws, count: int) -> list[str]:
    return [recv_until(ws, lambda m: m.get("event_type") == "trade")["status"] for _ in range(count)]


def test_status_pipeline_via_rest_and_ws(sim, market):
    yes = market["yes_token_id"]
    _, taker = _seller_and_buyer(sim, yes)
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, taker)  # subscribed before the trade happens
        sim.configure(mined_delay_s=0.6, confirmed_delay_s=0.6)  # slow enough to poll each state
        try:
            trade_id = _order(taker, yes, "BUY", 0.5, 10)["tradeIDs"][0]
            rest_seen = _rest_statuses(taker, trade_id, ("MATCHED", "MINED", "CONFIRMED"))
            seen = _pushed(ws, 3)
        finally:
            sim.configure(mined_delay_s=0.2, confirmed_delay_s=0.2)
    # REST names them as the venue does (prefixed: polled above); the user channel the plain names.
    assert rest_seen == seen == ["MATCHED", "MINED", "CONFIRMED"]


def test_retrying_and_not_broadcasted_trades_read_as_the_venue_names_them():
    """RETRYING sits between MATCHED and MINED on both channels; MATCHED_NOT_BROADCASTED is what
    REST says of a matched trade not yet broadcast, while the user channel says MATCHED."""
    slow = {**FAST, "mined_delay_s": 0.6, "confirmed_delay_s": 0.6, "retrying_rate": 1.0,
            "not_broadcasted_rate": 1.0}
    with approved_simulator(seed=12, **slow) as sim:
        yes = sim.market(neg_risk=False)["yes_token_id"]
        _, taker = _seller_and_buyer(sim, yes)
        with connect(sim.ws_host + "user", open_timeout=5) as ws:
            subscribe_user(ws, taker)
            trade_id = _order(taker, yes, "BUY", 0.5, 10)["tradeIDs"][0]
            rest_seen = _rest_statuses(taker, trade_id, ("MATCHED_NOT_BROADCASTED", "RETRYING", "MINED", "CONFIRMED"))
            seen = _pushed(ws, 4)
    assert rest_seen == ["MATCHED_NOT_BROADCASTED", "RETRYING", "MINED", "CONFIRMED"]
    assert seen == ["MATCHED", "RETRYING", "MINED", "CONFIRMED"]


def test_ghost_fill_reverses_balances_and_reports_failed():
    with approved_simulator(seed=11, **{**FAST, "fail_rate": 1.0}) as sim:
        m = sim.market(neg_risk=False)
        yes = m["yes_token_id"]
        maker, taker = _seller_and_buyer(sim, yes)
        with connect(sim.ws_host + "user", open_timeout=5) as ws:
            subscribe_user(ws, maker)
            resp = _order(taker, yes, "BUY", 0.5, 10)
            assert resp["status"] == "matched"
            assert sim.balances(taker.get_address())["tokens"] == {yes: "10"}
            statuses = _pushed(ws, 2)
        assert statuses == ["MATCHED", "FAILED"]
        trade = wait_for(lambda: [t for t in taker.get_trades() if t["status"] == "TRADE_STATUS_FAILED"])[0]
        assert trade["id"] == resp["tradeIDs"][0]
        assert sim.balances(taker.get_address())["pusd"] == "10000"
        assert sim.balances(taker.get_address())["tokens"] == {}
        assert sim.balances(maker.get_address())["tokens"] == {yes: "10"}
