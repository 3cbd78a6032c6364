"""Maker rebates: the venue's published share of taker fees (20 % crypto, 25 % otherwise),
fee-curve weighted among a market's makers, paid once a maker has accrued 1 pUSD."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from py_clob_client_v2 import OrderArgs, PartialCreateOrderOptions

from simulator.markets import Market, Token
from simulator.rebates import rebate_share_ppm, utc_day
from simulator.testing import approved_simulator

from .conftest import FAST, deposit_client, new_client, wait_for


@pytest.fixture(scope="module")
def rsim():
    # r = 0.25 so a few fills earn the 1 pUSD minimum; the share and the minimum are the venue's.
    with approved_simulator(seed=41, fee_rate="0.25", **FAST) as handle:
        yield handle


def _maker_fill(sim, maker, taker, token: str, shares: int, price: str = "0.5") -> str:
    """`maker` rests a SELL that `taker` takes in full; returns the trade id once CONFIRMED."""
    options = PartialCreateOrderOptions(tick_size="0.01", neg_risk=False)
    maker.post_order(maker.create_order(OrderArgs(token_id=token, price=float(price), size=shares, side="SELL"),
                                        options))
    taken = taker.post_order(taker.create_order(OrderArgs(token_id=token, price=float(price), size=shares,
                                                          side="BUY"), options))
    [trade_id] = taken["tradeIDs"]
    wait_for(lambda: sim.trade(trade_id)["status"] == "CONFIRMED", timeout=5)
    return trade_id


def _traders(sim, index: int, shares: str):
    """A standard market with an empty book, a maker (deposit wallet) holding `shares` YES, a taker."""
    m = sim.market(neg_risk=False, index=index)
    sim.clear_book(m["condition_id"])
    (maker, wallet), taker = deposit_client(sim), new_client(sim)
    sim.fund(wallet, token_id=m["yes_token_id"], tokens=shares)
    return m, maker, wallet, taker


def test_a_maker_is_paid_its_share_of_the_taker_fee_once_over_the_minimum(rsim):
    m, maker, wallet, taker = _traders(rsim, 0, "200")
    first = _maker_fill(rsim, maker, taker, m["yes_token_id"], 20)
    fee = Decimal(rsim.trade(first)["fee"])  # 20 * 0.25 * 0.25 = 1.25 pUSD
    assert fee == Decimal("1.25")
    paid = rsim.pay_rebates()
    # 25 % of 1.25 is 0.3125: below the 1 pUSD minimum, owed, not paid.
    assert wallet.lower() not in paid["paid"] and paid["owed"][wallet.lower()] == "0.3125"
    assert rsim.activity(wallet) == []
    _maker_fill(rsim, maker, taker, m["yes_token_id"], 60)  # 3.75 more in fees: 0.9375 more earned
    before = Decimal(rsim.balances(wallet)["pusd"])
    paid = rsim.pay_rebates()
    assert paid["paid"][wallet.lower()] == "1.25"  # 0.3125 + 0.9375, both pools
    assert Decimal(rsim.balances(wallet)["pusd"]) - before == Decimal("1.25")
    [item] = rsim.activity(wallet)
    assert (item["type"], item["usdcSize"]) == ("MAKER_REBATE", "1.25") and item["transactionHash"].startswith("0x")
    listed = httpx.get(rsim.data_api_host + "/activity", params={"user": wallet, "type": "MAKER_REBATE"}).json()
    assert [i["usdcSize"] for i in listed] == ["1.25"]
    taker_paid = rsim.activity(taker.get_address())
    assert taker_paid == []  # takers pay fees; only makers are rebated


def test_rebates_current_lists_a_makers_day_by_market_and_null_for_none(rsim):
    m, maker, wallet, taker = _traders(rsim, 1, "100")
    trade = _maker_fill(rsim, maker, taker, m["yes_token_id"], 40)
    rsim.pay_rebates()
    day = utc_day(float(httpx.get(rsim.clob_host + "/time").json()))
    rows = httpx.get(rsim.clob_host + "/rebates/current", params={"date": day, "maker_address": wallet}).json()
    assert [(r["condition_id"], r["rebated_fees_usdc"]) for r in rows] == [
        (m["condition_id"], str(Decimal(rsim.trade(trade)["fee"]) / 4))]
    nobody = httpx.get(rsim.clob_host + "/rebates/current",
                       params={"date": day, "maker_address": taker.get_address()})
    assert nobody.status_code == 200 and nobody.json() is None
    bad = httpx.get(rsim.clob_host + "/rebates/current", params={"date": "today", "maker_address": wallet})
    assert bad.status_code == 400


def test_crypto_markets_rebate_twenty_percent_others_twenty_five():
    def market(tags: list[str]) -> Market:
        token = Token("1", "Yes", True)
        return Market("g", "0x" + "11" * 32, "q", "?", "", "s", tags, "", token, Token("2", "No", False), 10_000,
                      5_000_000, False, "", "", 0.0, 0.0, 0.5)

    assert rebate_share_ppm(market(["Crypto", "Bitcoin"])) == 200_000
    assert rebate_share_ppm(market(["Politics"])) == rebate_share_ppm(market([])) == 250_000


def test_no_fee_no_rebate():
    with approved_simulator(seed=42, fee_rate="0", **FAST) as sim:
        m, maker, wallet, taker = _traders(sim, 0, "100")
        _maker_fill(sim, maker, taker, m["yes_token_id"], 50)
        assert sim.pay_rebates() == {"paid": {}, "owed": {}}
