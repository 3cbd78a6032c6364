"""Taker fees (CLOB V2): per leg r * (p * (1 - p)) ** e, floored to 5 decimals, paid in pUSD by
the taker only; fee_rate_bps still reads "0" on the wire, as the real venue reports it."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_clob_client_v2 import MarketOrderArgs, OrderArgs, OrderType, TradeParams
from py_clob_client_v2.exceptions import PolyApiException
from websockets.sync.client import connect

from simulator.config import SimConfig
from simulator.fees import FEE_COLLECTOR, assign_fees, leg_fee
from simulator.markets import build_markets
from simulator.orders import BUY, SELL
from simulator.testing import SimHandle, approved_simulator
from simulator.units import fmt

from .conftest import FAST, deposit_client, recv_until, subscribe_user, wait_for
from .test_core import _exchange, _order

STRICT: dict[str, Any] = {**FAST, "allow_eoa_makers": False}  # deposit wallets only, as the venue


def test_the_venues_published_example():
    # py-clob-client-v2 #107: 25 shares at 0.13 with r = 0.05, e = 1 cost 0.14 pUSD in fees.
    fee = leg_fee(25_000_000, 130_000, 50_000, 1)  # exact: 0.141375
    assert fee == 141_370 and fmt(fee) == "0.14137"
    assert round(Decimal(fee) / 10**6, 2) == Decimal("0.14")
    assert leg_fee(25_000_000, 870_000, 50_000, 1) == fee  # p(1 - p) is symmetric
    assert leg_fee(25_000_000, 130_000, 0, 1) == 0


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**12), st.integers(1, 999_999), st.integers(0, 1_000_000), st.integers(1, 3))
def test_fee_is_the_formula_floored_to_five_decimals(shares, price, rate, exponent):
    exact = (Decimal(shares) / 10**6 * Decimal(rate) / 10**6
             * (Decimal(price) / 10**6 * (1 - Decimal(price) / 10**6)) ** exponent)
    expected = exact.quantize(Decimal("0.00001"), rounding=ROUND_FLOOR)
    fee = leg_fee(shares, price, rate, exponent)
    assert isinstance(fee, int) and fee % 10 == 0
    assert Decimal(fee) / 10**6 == expected


def test_default_mix_by_market_index_and_flags_for_every_market():
    markets = build_markets(10, random.Random(0), 0.0, 3600.0)
    assign_fees(markets, None, None)
    assert [(m.fee_rate, m.fee_exponent) for m in markets[:6]] == [
        (0, 1), (50_000, 1), (30_000, 1), (0, 1), (50_000, 1), (30_000, 1)]
    assign_fees(markets, "0.02", 2)
    assert {(m.fee_rate, m.fee_exponent) for m in markets} == {(20_000, 2)}
    assign_fees(markets, "0", None)
    assert {m.fee_rate for m in markets} == {0}
    with pytest.raises(ValueError, match="fee_rate"):
        SimConfig(fee_rate="0.0000001")
    with pytest.raises(ValueError, match="fee_exponent"):
        SimConfig(fee_exponent=0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.sampled_from([BUY, SELL]), st.integers(1, 99),
                          st.integers(1, 40), st.sampled_from(["GTC", "FAK"])), min_size=1, max_size=40))
def test_fees_conserve_money_and_never_overdraw(flow):
    ex, ledger, scheduled = _exchange("1000")
    market = next(iter(ex.markets.values()))
    market.fee_rate, market.fee_exponent = 250_000, 1  # a steep fee makes shortfalls likely
    people = [f"p{i}" for i in range(4)]
    for who in people:
        ledger.fund(who, 0, market.yes.token_id, 50_000_000)
        ledger.fund(who, 0, market.no.token_id, 50_000_000)
    for who_i, yes, side, cents, size, kind in flow:
        try:
            ex.place(_order(ex, people[who_i], yes, side, cents * 10_000, size * 1_000_000, kind))
        except Exception as exc:  # only the venue's refusals
            assert type(exc).__name__ == "OrderRejected"
    for fn in scheduled:
        fn()
    accts = [ledger.account(p) for p in people]
    yes_total = sum(a.token(market.yes.token_id) for a in accts)
    collected = ledger.account(FEE_COLLECTOR).pusd
    assert collected >= 0 and collected % 10 == 0
    assert sum(a.pusd for a in accts) + collected + yes_total == 4 * (1000 + 50) * 10**6
    assert all(a.pusd >= 0 and a.available_pusd() >= 0 for a in accts)


# -- through the real client ------------------------------------------------------------------


@pytest.fixture(scope="module")
def strict() -> Iterator[SimHandle]:
    with approved_simulator(seed=31, **STRICT) as handle:
        yield handle


def _fee_market(sim: SimHandle, rate: str) -> dict[str, Any]:
    m = next(m for m in sim.markets() if m["fee_rate"] == rate and not m["neg_risk"]
             and m["tick_size"] == "0.01" and not m["protocol_v2"])  # orders signed for v1 token ids
    sim.clear_book(m["condition_id"])
    return m


def test_markets_serve_their_fee_parameters(strict):
    charged, free = _fee_market(strict, "0.05"), _fee_market(strict, "0")
    client, _ = deposit_client(strict)
    info = client.get_clob_market_info(charged["condition_id"])
    assert info["fd"] == {"r": 0.05, "e": 1, "to": True}
    assert client.get_clob_market_info(free["condition_id"])["fd"] == {"r": 0, "e": 1, "to": True}
    rows = httpx.get(strict.gamma_host + "/markets", params={
        "condition_ids": f"{charged['condition_id']},{free['condition_id']}"}).json()
    assert {r["conditionId"]: r["feesEnabled"] for r in rows} == {charged["condition_id"]: True,
                                                                  free["condition_id"]: False}
    assert client.get_fee_rate_bps(charged["yes_token_id"]) == 0  # /fee-rate: as the protocol notes say


def test_taker_buy_pays_each_legs_floored_fee_and_makers_pay_nothing(strict):
    m = _fee_market(strict, "0.05")
    yes = m["yes_token_id"]
    (maker_a, wallet_a), (maker_b, wallet_b), (taker, wallet_t) = (deposit_client(strict) for _ in range(3))
    for maker, wallet in ((maker_a, wallet_a), (maker_b, wallet_b)):
        strict.fund(wallet, token_id=yes, tokens="25")
        maker.post_order(maker.create_order(OrderArgs(token_id=yes, price=0.13, size=25, side="SELL")))
    with connect(strict.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, taker)
        resp = taker.post_order(taker.create_order(OrderArgs(token_id=yes, price=0.13, size=50, side="BUY")))
        pushed = recv_until(ws, lambda x: x.get("event_type") == "trade")
    assert (resp["status"], resp["makingAmount"], resp["takingAmount"]) == ("matched", "6.5", "50")
    # Two legs of 25 at 0.13: 0.141375 each, floored to 0.14137 each (not 0.28275 on the sum).
    assert strict.trade(resp["tradeIDs"][0])["fee"] == "0.28274"
    assert strict.balances(wallet_t)["pusd"] == str(Decimal(10000) - Decimal("6.5") - Decimal("0.28274"))
    assert strict.balances(wallet_t)["tokens"] == {yes: "50"}  # shares are never reduced
    assert strict.balances(wallet_a)["pusd"] == strict.balances(wallet_b)["pusd"] == "10003.25"
    [as_taker] = taker.get_trades(TradeParams(id=resp["tradeIDs"][0]))
    [as_maker] = maker_a.get_trades(TradeParams(id=resp["tradeIDs"][0]))
    for record in (as_taker, as_maker, pushed):  # as the venue reports even a fee-charged fill
        assert record["fee_rate_bps"] == "0"
        assert {leg["fee_rate_bps"] for leg in record["maker_orders"]} == {"0"}


def test_taker_sell_receives_proceeds_less_the_fee(strict):
    m = _fee_market(strict, "0.05")
    yes = m["yes_token_id"]
    strict.place_liquidity(yes, "BUY", "0.13", "25")
    seller, wallet = deposit_client(strict)
    strict.fund(wallet, token_id=yes, tokens="25")
    resp = seller.post_order(seller.create_market_order(
        MarketOrderArgs(token_id=yes, amount=25, side="SELL", price=0.13)), OrderType.FOK)
    assert (resp["makingAmount"], resp["takingAmount"]) == ("25", "3.25")
    bal = strict.balances(wallet)
    assert bal["pusd"] == "10003.10863" and bal["tokens"] == {}  # 3.25 - 0.14137


def test_a_market_buy_pays_the_fee_on_top_of_its_budget(strict):
    m = _fee_market(strict, "0.03")
    yes = m["yes_token_id"]
    strict.place_liquidity(yes, "SELL", "0.5", "100")
    buyer, wallet = deposit_client(strict)
    resp = buyer.post_order(buyer.create_market_order(
        MarketOrderArgs(token_id=yes, amount=5, side="BUY", price=0.5)), OrderType.FOK)
    assert (resp["makingAmount"], resp["takingAmount"]) == ("5", "10")
    assert strict.balances(wallet)["pusd"] == "9994.925"  # 5 + 10 × 0.03 × 0.25 = 0.075


def test_no_fee_market_charges_nothing(strict):
    m = _fee_market(strict, "0")
    yes = m["yes_token_id"]
    strict.place_liquidity(yes, "SELL", "0.5", "20")
    buyer, wallet = deposit_client(strict)
    resp = buyer.post_order(buyer.create_order(OrderArgs(token_id=yes, price=0.5, size=20, side="BUY")))
    assert strict.trade(resp["tradeIDs"][0])["fee"] == "0"
    assert strict.balances(wallet)["pusd"] == "9990"


def test_a_buy_short_of_notional_plus_fee_is_refused():
    with approved_simulator(seed=32, starting_balance="3.25", **STRICT) as sim:
        m = _fee_market(sim, "0.05")
        yes = m["yes_token_id"]
        sim.place_liquidity(yes, "SELL", "0.13", "25")
        buyer, wallet = deposit_client(sim)
        order = buyer.create_order(OrderArgs(token_id=yes, price=0.13, size=25, side="BUY"))
        with pytest.raises(PolyApiException) as exc:
            buyer.post_order(order)
        assert exc.value.status_code == 400
        assert exc.value.error_msg["error"] == ("not enough balance / allowance: the balance is not enough -> "
                                                "balance: 3250000, sum of active orders: 0, order amount: 3391370")
        resting = buyer.create_order(OrderArgs(token_id=yes, price=0.12, size=25, side="BUY"))
        assert buyer.post_order(resting)["status"] == "live"  # a maker needs no fee money
        buyer.cancel_all()
        sim.fund(wallet, pusd="0.14137")
        assert buyer.post_order(order)["status"] == "matched"
        assert sim.balances(wallet)["pusd"] == "0"


def test_fee_flags_set_every_market_and_a_failed_trade_refunds_the_fee():
    with approved_simulator(seed=33, fee_rate="0.02", fee_exponent=2, fail_rate=1.0, **STRICT) as sim:
        assert {(m["fee_rate"], m["fee_exponent"]) for m in sim.markets()} == {("0.02", 2)}
        m = sim.market(neg_risk=True)
        info = httpx.get(f"{sim.clob_host}/clob-markets/{m['condition_id']}").json()
        assert info["fd"] == {"r": 0.02, "e": 2, "to": True}
        sim.clear_book(m["condition_id"])
        sim.place_liquidity(m["yes_token_id"], "SELL", "0.5", "100")
        buyer, wallet = deposit_client(sim)
        resp = buyer.post_order(buyer.create_order(OrderArgs(token_id=m["yes_token_id"], price=0.5, size=100,
                                                             side="BUY")))
        assert sim.trade(resp["tradeIDs"][0])["fee"] == "0.125"  # 100 × 0.02 × 0.25²
        assert sim.balances(wallet)["pusd"] == "9949.875"
        wait_for(lambda: sim.trade(resp["tradeIDs"][0])["status"] == "FAILED")
        assert sim.balances(wallet)["pusd"] == "10000"  # a ghost fill charges nothing
        state = json.loads(httpx.get(f"{sim.clob_host}/_sim/trades/{resp['tradeIDs'][0]}").text)
        assert state["status"] == "FAILED" and state["fee"] == "0.125"
