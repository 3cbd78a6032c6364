"""Trading payloads (captured user-channel and REST shapes) into protocol types: our side
of every fill, both status styles, order responses and cancel results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Side
from engine.execution.ledger import taker_fee
from engine.venues.base import (
    CancelResult,
    OrderEvent,
    OrderRejected,
    TradeEvent,
    TradeStatus,
    VenueOrderStatus,
    VenueTrade,
)
from engine.venues.polymarket.wire import (
    Identity,
    cancel_result,
    merge_cancels,
    our_fills,
    place_result,
    user_events,
    venue_order,
)

WS = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket" / "ws"
OUR_KEY = "3e2c94ca-8124-c4c1-c7ea-be1ea21b71fe"
OUR_WALLET = "0xa3D82Ed56F4c68d2328Fb8c29e568Ba2cAF7d7c8"
ME = Identity.of([OUR_KEY], [OUR_WALLET])
YES = "21742633143463906290569050155826241533067272736897614950488156847949938836455"
NO = "48331043336612883890938759509493159234755048973500640148014422747788308965732"
MARKET = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917"


def load(name: str) -> dict[str, Any]:
    return json.loads((WS / name).read_text())


def fill(trade_id: str, order_id: str, side: Side, price: int, size: int, status: TradeStatus, liquidity: str,
         matched_s: int, token: str = YES) -> VenueTrade:
    return VenueTrade(trade_id, order_id, MARKET, token, side, price, size, 0, status, liquidity,  # type: ignore[arg-type]  # liquidity as the venue reports it
                      matched_s * 1000)


def test_taker_fill_is_priced_at_what_the_makers_gave_not_the_limit() -> None:
    # Taker BUY YES with a 0.55 limit: 10 from a YES seller at 0.50, and 30 minted against a NO
    # buyer at 0.48 (= YES at 0.52): one fill per leg, at the leg's price in the YES token.
    raw = {"id": "t-avg", "status": "MATCHED", "match_time": "1725958681", "market": MARKET, "side": "BUY",
           "asset_id": YES, "price": "0.55", "size": "40", "trader_side": "TAKER", "owner": OUR_KEY,
           "taker_order_id": "0xtaker", "maker_orders": [
               {"order_id": "0xm1", "owner": "someone", "matched_amount": "10", "price": "0.50", "asset_id": YES},
               {"order_id": "0xm2", "owner": "someone", "matched_amount": "30", "price": "0.48", "asset_id": NO}]}
    legs = our_fills(raw, ME)
    assert [(f.trade_id, f.price, f.size, f.liquidity) for f in legs] == [
        ("t-avg/0xm1", 500_000, 10_000_000, "TAKER"), ("t-avg/0xm2", 520_000, 30_000_000, "TAKER")]


def test_taker_fill_from_a_captured_payload() -> None:
    no_fee_market = lambda condition_id: (0, 1)  # noqa: E731
    assert our_fills(load("user_trade2.json"), ME, no_fee_market) == [fill(
        "f50e8ab2-652d-4dc8-9c82-8e46197fe98d", "0x5b605a0e8e40f3402d3cb3bc19edad6733ed23fbc079d2a09ee399c3487ace81",
        Side.BUY, 520_000, 5_000_000, TradeStatus.MATCHED, "TAKER", 1725958681)]
    # Without the market's schedule the fee is not known, and the fill says so (never a silent 0).
    [unpriced] = our_fills(load("user_trade2.json"), ME)
    assert (unpriced.fee, unpriced.fee_known) == (0, False)
    assert our_fills(load("trades.json"), ME)[0].venue_order_id.startswith("0x4505aada")


def test_maker_fill_uses_our_maker_orders_entry_found_by_api_key() -> None:
    # We are one of six makers; the top-level price/size/side are the taker's.
    assert our_fills(load("user_trade1.json"), ME) == [fill(
        "83b5c849-620e-4c23-b63b-2e779c04a6e7", "0xab679e56242324e15e59cfd488cd0f12e4fd71b153b9bfb57518898b9983145e",
        Side.SELL, 518_000, 5_000_000, TradeStatus.MINED, "MAKER", 1725868859)]


def test_maker_fills_found_by_wallet_address_keep_their_own_prices() -> None:
    fills = our_fills(load("user_trade4.json"), ME)
    assert [(f.venue_order_id[:10], f.price, f.size, f.side) for f in fills] == [
        ("0x3ad09f22", 400_000, 5_000_000, Side.BUY), ("0x67b598ca", 300_000, 5_000_000, Side.BUY)]
    assert {f.status for f in fills} == {TradeStatus.CONFIRMED}
    [only] = our_fills(load("user_trade3.json"), ME)
    assert (only.price, only.side, only.liquidity) == (513_000, Side.BUY, "MAKER")


def test_maker_side_is_inferred_when_older_payloads_omit_it() -> None:
    # A maker on the complementary token (NO) was buying too: that match mints a pair.
    other = Identity.of(["78132bc3-22af-6aa2-79ae-11929f821cae"], [])
    [leg] = our_fills(load("user_trade1.json"), other)
    assert (leg.token_id, leg.side, leg.price) == (NO, Side.BUY, 482_000)


def test_a_trade_naming_none_of_our_orders_yields_nothing() -> None:
    stranger = Identity.of(["nobody"], ["0x0000000000000000000000000000000000000001"])
    assert our_fills(load("user_trade1.json"), stranger) == []


def test_self_match_reports_both_sides() -> None:
    trade = dict(load("user_trade2.json"))
    trade["maker_orders"] = [dict(trade["maker_orders"][0], owner=OUR_KEY, side="SELL")]
    fills = our_fills(trade, ME)
    assert [(f.liquidity, f.side) for f in fills] == [("TAKER", Side.BUY), ("MAKER", Side.SELL)]


def test_taker_fee_matches_the_venues_published_example() -> None:
    # py-clob-client-v2 #107: BUY 25 shares at 0.13 on a market with fd {r: 0.05, e: 1} was charged
    # 0.14 pUSD (to the cent): 25 * 0.05 * 0.13 * 0.87 = 0.141375, floored to 5 decimals.
    assert taker_fee(130_000, 25_000_000, 50_000, 1) == 141_370
    assert round(taker_fee(130_000, 25_000_000, 50_000, 1) / 1e6, 2) == 0.14
    assert taker_fee(500_000, 100_000_000, 30_000, 1) == 750_000  # 100 * 0.03 * 0.25 (the docs' table)
    assert taker_fee(500_000, 100_000_000, 30_000, 2) == 187_500  # e = 2: 100 * 0.03 * 0.0625
    assert taker_fee(500_000, 1_000_000, 0, 1) == 0  # a no-fee market
    assert taker_fee(990_000, 10_000, 72_000, 1) == 0  # 0.0000071 floors to nothing at 5 decimals


def test_taker_fee_comes_from_the_market_schedule_not_the_trade_record() -> None:
    trade = load("user_trade2.json")  # taker BUY 5 at 0.52, fee_rate_bps "0" as the venue reports it
    schedules = {MARKET: (50_000, 1)}
    (taker,) = our_fills(trade, ME, schedules.get)
    assert taker.fee == taker_fee(520_000, 5_000_000, 50_000, 1) == 62_400  # 5 * 0.05 * 0.52 * 0.48
    assert our_fills(trade, ME, {MARKET: (0, 1)}.get)[0].fee == 0
    maker_side = dict(trade, trader_side="MAKER")
    maker_side["maker_orders"] = [dict(trade["maker_orders"][0], owner=OUR_KEY, side="SELL")]
    (maker,) = our_fills(maker_side, ME, schedules.get)
    assert maker.liquidity == "MAKER" and maker.fee == 0  # makers pay nothing


def test_a_taker_matched_against_several_makers_pays_per_leg() -> None:
    raw = {"id": "t-legs", "status": "MATCHED", "match_time": "1725958681", "market": MARKET, "side": "BUY",
           "asset_id": YES, "price": "0.55", "size": "40", "trader_side": "TAKER", "owner": OUR_KEY,
           "taker_order_id": "0xtaker", "fee_rate_bps": "0", "maker_orders": [
               {"order_id": "0xm1", "owner": "someone", "matched_amount": "10", "price": "0.50", "asset_id": YES},
               {"order_id": "0xm2", "owner": "someone", "matched_amount": "30", "price": "0.48", "asset_id": NO}]}
    first, second = our_fills(raw, ME, {MARKET: (50_000, 1)}.get)
    # 10 at 0.50 and 30 minted at 0.52 (p(1 - p) is the same for a price and its complement).
    assert (first.fee, second.fee) == (taker_fee(500_000, 10_000_000, 50_000, 1),
                                       taker_fee(520_000, 30_000_000, 50_000, 1)) == (125_000, 374_400)


def test_order_events_and_both_status_styles() -> None:
    placed = venue_order(load("order_placement.json"))
    assert (placed.status, placed.side, placed.price, placed.size, placed.filled, placed.created_ms) == (
        VenueOrderStatus.LIVE, Side.BUY, 513_000, 5_000_000, 0, 1725842520000)
    canceled = venue_order(load("order_cancel.json"))
    assert (canceled.status, canceled.filled) == (VenueOrderStatus.CANCELED, 5_000_000)
    v2_style = venue_order(dict(load("order_placement.json"), status="ORDER_STATUS_LIVE"))
    assert v2_style.status is VenueOrderStatus.LIVE
    assert place_result({"success": True, "orderID": "0xa", "status": "ORDER_STATUS_MATCHED"}, "0xa").status \
        is VenueOrderStatus.MATCHED


def test_trade_statuses_in_both_spellings_and_a_new_one_taken_as_pending() -> None:
    base = load("user_trade2.json")
    for raw, expected in (("TRADE_STATUS_MATCHED_NOT_BROADCASTED", TradeStatus.MATCHED_NOT_BROADCASTED),
                          ("MATCHED_NOT_BROADCASTED", TradeStatus.MATCHED_NOT_BROADCASTED),
                          ("TRADE_STATUS_RETRYING", TradeStatus.RETRYING), ("RETRYING", TradeStatus.RETRYING),
                          ("TRADE_STATUS_CONFIRMED", TradeStatus.CONFIRMED), ("mined", TradeStatus.MINED),
                          ("TRADE_STATUS_SOMETHING_NEW", TradeStatus.MATCHED)):
        fills = our_fills(dict(base, status=raw), ME)
        assert fills and {f.status for f in fills} == {expected}, raw


def test_user_events() -> None:
    assert user_events(load("order_placement.json"), ME) == [OrderEvent(venue_order(load("order_placement.json")))]
    assert user_events(load("user_trade2.json"), ME) == [TradeEvent(f) for f in our_fills(load("user_trade2.json"), ME)]
    assert user_events({"event_type": "something_new"}, ME) == []


def test_place_results() -> None:
    ok = place_result({"success": True, "errorMsg": "", "orderID": "0xab", "status": "matched",
                       "makingAmount": "5", "takingAmount": "10", "tradeIDs": ["t1"], "transactionsHashes": []},
                      "0xAB")
    assert (ok.venue_order_id, ok.status, ok.trade_ids) == ("0xab", VenueOrderStatus.MATCHED, ("t1",))
    assert ok.filled is None  # without the order's side the amounts say nothing
    bought = place_result({"success": True, "orderID": "0xab", "status": "matched", "makingAmount": "5",
                           "takingAmount": "10"}, "0xab", Side.BUY)
    sold = place_result({"success": True, "orderID": "0xab", "status": "matched", "makingAmount": "10",
                         "takingAmount": "5"}, "0xab", Side.SELL)
    assert bought.filled == sold.filled == 10_000_000  # a BUY takes shares, a SELL makes them
    assert place_result({"success": True, "orderID": "0x1", "status": "delayed"}, "0x1").status \
        is VenueOrderStatus.DELAYED
    with pytest.raises(OrderRejected, match="not enough balance"):
        place_result({"success": False, "errorMsg": "not enough balance / allowance", "orderID": ""}, "0x1")
    with pytest.raises(OrderRejected, match="order_version_mismatch"):
        place_result({"error": "order_version_mismatch"}, "0x1")


def test_a_refusal_inside_a_200_is_a_refusal() -> None:
    """Accepted only with success, an empty errorMsg and a non-empty orderID (as the venue's own
    clients read it): anything else is refused, never booked under the signed id."""
    fok = "order couldn't be fully filled. FOK orders are fully filled or killed."
    for answer in ({"success": True, "errorMsg": fok, "orderID": "", "status": ""},
                   {"success": True, "errorMsg": fok, "orderID": "0x1", "status": "live"},
                   {"success": True, "errorMsg": "", "orderID": "", "status": "live"},
                   {"errorMsg": "", "orderID": "0x1", "status": "live"},
                   {"success": "true", "errorMsg": "", "orderID": "0x1", "status": "live"}):
        with pytest.raises(OrderRejected) as refused:
            place_result(answer, "0x1")
        if answer["errorMsg"]:
            assert fok in str(refused.value)


def test_cancel_results() -> None:
    first = cancel_result({"canceled": ["a"], "not_canceled": {"b": "order not found"}})
    assert first == CancelResult(("a",), {"b": "order not found"})
    second = cancel_result({"canceled": ["b"], "not_canceled": {}})
    assert merge_cancels(first, second) == CancelResult(("a", "b"), {})
    assert cancel_result(None) == CancelResult()
