"""Liquidity-reward programs through the real py-clob-client-v2: the reward markets, order scoring,
a day's payout and the earnings endpoints, as the CLOB answers them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from py_clob_client_v2 import OrderArgs, OrderScoringParams, OrdersScoringParams, PartialCreateOrderOptions

from simulator.config import SimConfig
from simulator.rewards import utc_day
from simulator.testing import approved_simulator

from .conftest import FAST, deposit_client

TERMS: dict[str, Any] = dict(reward_markets="4,6", reward_pool="20", reward_max_spread="3", reward_min_size="20",
             reward_sample_s=3600.0)  # samples are taken by the test, not the clock


@pytest.fixture(scope="module")
def wsim():
    with approved_simulator(seed=43, **TERMS, **FAST) as handle:
        yield handle


def _rest(client, token: str, side: str, price: str, size: int) -> str:
    options = PartialCreateOrderOptions(tick_size="0.01", neg_risk=False)
    order = client.create_order(OrderArgs(token_id=token, price=float(price), size=size, side=side), options)
    return client.post_order(order)["orderID"]


def test_the_reward_markets_are_listed_with_their_terms(wsim):
    client, _ = deposit_client(wsim)
    markets = wsim.markets()
    rewarded = [m["condition_id"] for m in markets if m["rewarded"]]
    assert rewarded == [markets[4]["condition_id"], markets[6]["condition_id"]]  # standard markets
    rows = client.get_current_rewards()
    assert [r["condition_id"] for r in rows] == rewarded
    row = rows[0]
    assert (row["rewards_max_spread"], row["rewards_min_size"], row["native_daily_rate"]) == (3, 20, 20)
    assert row["rewards_config"][0]["rate_per_day"] == 20
    [raw] = client.get_raw_rewards_for_market(rewarded[0])
    assert raw["condition_id"] == rewarded[0] and len(raw["tokens"]) == 2
    assert client.get_raw_rewards_for_market(markets[5]["condition_id"]) == []
    clob = httpx.get(f"{wsim.clob_host}/markets/{rewarded[0]}").json()["rewards"]
    assert clob["min_size"] == 20 and clob["max_spread"] == 3 and clob["rates"][0]["rewards_daily_rate"] == 20
    assert httpx.get(f"{wsim.clob_host}/markets/{markets[5]['condition_id']}").json()["rewards"]["rates"] is None


def test_orders_score_inside_the_spread_and_over_the_min_size_and_a_day_pays_the_pool(wsim):
    m = wsim.markets()[4]
    wsim.clear_book(m["condition_id"])
    maker, wallet = deposit_client(wsim)
    wsim.fund(wallet, token_id=m["yes_token_id"], tokens="500")
    bid = _rest(maker, m["yes_token_id"], "BUY", "0.49", 100)
    ask = _rest(maker, m["yes_token_id"], "SELL", "0.51", 100)
    small = _rest(maker, m["yes_token_id"], "BUY", "0.50", 10)  # under the 20-share minimum
    far = _rest(maker, m["yes_token_id"], "SELL", "0.56", 50)  # 6 cents out: beyond the max spread
    assert maker.is_order_scoring(OrderScoringParams(orderId=bid)) == {"scoring": True}
    answer = maker.are_orders_scoring(OrdersScoringParams(orderIds=[bid, ask, small, far, "0x" + "0" * 64]))
    assert answer == {bid: True, ask: True, small: False, far: False, "0x" + "0" * 64: False}
    stranger, _ = deposit_client(wsim)
    assert stranger.are_orders_scoring(OrdersScoringParams(orderIds=[bid])) == {bid: False}

    before = Decimal(wsim.balances(wallet)["pusd"])
    wsim.sample_rewards()  # the desk is alone inside the spread of this market: the whole pool
    paid = wsim.pay_rewards()["paid"]
    assert paid == {wallet.lower(): "20"}
    assert Decimal(wsim.balances(wallet)["pusd"]) - before == Decimal("20")
    [item] = [a for a in wsim.activity(wallet) if a["type"] == "REWARD"]
    assert item["usdcSize"] == "20" and item["transactionHash"].startswith("0x")
    day = utc_day(float(httpx.get(wsim.clob_host + "/time").json()))
    got = maker.get_earnings_for_user_for_day(day)
    [earned] = got
    assert (earned["condition_id"], earned["earnings"], earned["maker_address"]) == (
        m["condition_id"], 20, wallet.lower())
    assert maker.get_total_earnings_for_user_for_day(day)[0]["earnings"] == 20
    assert stranger.get_earnings_for_user_for_day(day) == []
    maker.cancel_all()


def test_a_day_under_the_minimum_is_not_paid():
    with approved_simulator(seed=44, **(TERMS | {"reward_pool": "0.5"}), **FAST) as sim:
        m = sim.markets()[4]
        sim.clear_book(m["condition_id"])
        maker, wallet = deposit_client(sim)
        sim.fund(wallet, token_id=m["yes_token_id"], tokens="100")
        _rest(maker, m["yes_token_id"], "BUY", "0.49", 50)
        _rest(maker, m["yes_token_id"], "SELL", "0.51", 50)
        sim.sample_rewards()
        assert sim.pay_rewards() == {"paid": {}}
        day = utc_day(float(httpx.get(sim.clob_host + "/time").json()))
        assert maker.get_earnings_for_user_for_day(day) == []
        assert [a for a in sim.activity(wallet) if a["type"] == "REWARD"] == []


@pytest.mark.parametrize("bad", [dict(reward_markets="first"), dict(reward_max_spread="0"),
                                 dict(reward_pool="-1"), dict(reward_min_size="1.0000001"),
                                 dict(reward_sample_s=0.0), dict(reward_period_s=90_000.0)])
def test_bad_reward_terms_are_refused(bad):
    with pytest.raises(ValueError, match="reward_"):
        SimConfig(**bad)
