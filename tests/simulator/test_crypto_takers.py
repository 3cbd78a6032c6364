"""Crypto markets hold their takers (issue 88, item 6), and charge them the crypto schedule (item 4): on an
up/down window an order that would match at once is answered ``delayed`` and matched the venue's taker delay
later, as the book is then, so a maker that cancels meanwhile is not filled and a sniping taker's fill never
comes sooner; what would not match at once (a post-only or resting quote, a FAK that finds nothing, the
simulator's own liquidity) is not held, and nothing is held on a market outside the crypto category. The
taker pays r = 0.07 · p(1 − p) a share (e = 1), the schedule the venue's crypto markets carry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from py_clob_client_v2 import MarketOrderArgs, OrderArgs, OrderPayload, OrderType, PartialCreateOrderOptions
from py_clob_client_v2.exceptions import PolyApiException

from simulator.config import SimConfig
from simulator.testing import SimHandle, approved_simulator

from .conftest import FAST, deposit_client, wait_for

# Longer than the venue's 50 ms so a cancel lands inside it on a loaded machine; the default is checked below.
DELAY_MS = 2_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=88, **{**FAST, "allow_eoa_makers": False, "updown_series": "btc-updown-5m",
                                        "crypto_taker_delay_ms": DELAY_MS}) as handle:
        yield handle


@pytest.fixture
def window(sim: SimHandle) -> dict[str, Any]:
    """The latest-ending window listed, taken out of the series' own trading (its maker and takers, its
    resolution) so the test alone trades it, its book empty."""
    rows = [m for m in sim.markets() if m["question"].startswith("Bitcoin Up or Down")]
    cid = max(rows, key=lambda m: sim.sim.exchange.markets[m["condition_id"]].end_ts)["condition_id"]
    sim.call(sim.sim.updown.windows.pop, cid, None)
    sim.clear_book(cid)
    return next(m for m in sim.markets() if m["condition_id"] == cid)


def _bid(client: Any, window: dict[str, Any], price: float = 0.4) -> str:
    """A maker's post-only bid for 20 Up."""
    resp = client.post_order(client.create_order(
        OrderArgs(token_id=window["yes_token_id"], price=price, size=20, side="BUY"),
        PartialCreateOrderOptions(tick_size="0.01", neg_risk=False)), OrderType.GTC, post_only=True)
    assert resp["success"] and resp["status"] == "live"
    return str(resp["orderID"])


def _take(client: Any, window: dict[str, Any]) -> dict[str, Any]:
    """A FOK BUY of 20 Down at 0.60, which crosses a 0.40 Up bid (a Down buyer at 0.60 is an Up seller at 0.40)."""
    return client.post_order(client.create_market_order(
        MarketOrderArgs(token_id=window["no_token_id"], amount=12, side="BUY", price=0.6)), OrderType.FOK)


def test_a_maker_that_cancels_while_a_taker_is_held_is_not_filled(sim: SimHandle, window: dict[str, Any]) -> None:
    maker, maker_wallet = deposit_client(sim)
    taker, taker_wallet = deposit_client(sim)
    bid = _bid(maker, window)
    sniped = _take(taker, window)
    assert sniped["success"] and sniped["status"] == "delayed"  # held, not matched at once
    assert (sniped["makingAmount"], sniped["takingAmount"], sniped["tradeIDs"]) == ("", "", [])
    assert maker.cancel_order(OrderPayload(orderID=bid))["canceled"] == [bid]  # inside the delay
    assert taker.get_order(sniped["orderID"])["status"] == "DELAYED"
    wait_for(lambda: taker.get_order(sniped["orderID"]) is None, timeout=DELAY_MS / 1000 + 8)  # killed: nothing there
    assert maker.get_trades() == [] and taker.get_trades() == []
    assert (sim.balances(maker_wallet)["pusd"], sim.balances(taker_wallet)["pusd"]) == ("10000", "10000")


def test_a_takers_fill_on_a_crypto_market_comes_no_sooner_than_the_delay_and_pays_the_crypto_fee(
        sim: SimHandle, window: dict[str, Any]) -> None:
    maker, maker_wallet = deposit_client(sim)
    taker, taker_wallet = deposit_client(sim)
    bid = _bid(maker, window)
    sent = time.monotonic()
    sniped = _take(taker, window)
    assert sniped["status"] == "delayed" and sniped["tradeIDs"] == []
    wait_for(lambda: taker.get_trades(), timeout=DELAY_MS / 1000 + 8)
    assert time.monotonic() - sent >= DELAY_MS / 1000  # the fill came after the hold, never before
    assert maker.get_order(bid) is None and len(maker.get_trades()) == 1  # the maker's bid filled, and done
    # 20 Down at 0.60: 12 pUSD, and the taker fee 20 × 0.07 × 0.60 × 0.40 = 0.336 pUSD (the old curve,
    # r = 0.25 and e = 2, would have charged 0.288); the maker pays none.
    assert sim.balances(taker_wallet)["pusd"] == "9987.664"
    assert sim.balances(maker_wallet)["pusd"] == "9992"


def test_only_what_would_match_at_once_is_held_and_only_in_crypto_markets(sim: SimHandle,
                                                                          window: dict[str, Any]) -> None:
    client, _ = deposit_client(sim)
    up, down = window["yes_token_id"], window["no_token_id"]
    assert _bid(client, window, 0.3)  # a post-only quote rests at once
    resting = client.post_order(client.create_order(OrderArgs(token_id=up, price=0.35, size=20, side="BUY")))
    assert resting["status"] == "live"  # a GTC that crosses nothing: not a taker, not held
    with pytest.raises(PolyApiException, match="no orders found to match with FAK order"):
        client.post_order(client.create_market_order(  # a FAK that finds nothing is refused at once, not held
            MarketOrderArgs(token_id=up, amount=10, side="BUY", price=0.5)), OrderType.FAK)
    sim.place_liquidity(down, "SELL", "0.6", "20")
    assert sim.place_liquidity(down, "BUY", "0.6", "20")["matched"] == "20"  # the simulator's own: not held
    other = sim.market(neg_risk=False, index=0)  # a market outside the crypto category
    sim.clear_book(other["condition_id"])
    sim.place_liquidity(other["yes_token_id"], "SELL", "0.5", "20")
    taken = client.post_order(client.create_market_order(
        MarketOrderArgs(token_id=other["yes_token_id"], amount=10, side="BUY", price=0.5)), OrderType.FOK)
    assert taken["status"] == "matched" and taken["tradeIDs"]
    rows = {m["condition_id"]: m["taker_delay_ms"] for m in sim.markets()}
    assert (rows[window["condition_id"]], rows[other["condition_id"]]) == (DELAY_MS, 0)


def test_the_venues_crypto_taker_delay_is_the_default() -> None:
    assert SimConfig().crypto_taker_delay_ms == 50  # the changelog's figure since 2026-08-17 (250 ms before)
    with pytest.raises(ValueError, match="crypto_taker_delay_ms"):
        SimConfig().with_updates({"crypto_taker_delay_ms": -1})
