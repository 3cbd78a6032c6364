"""Parsers against every captured Polymarket payload, and the fast decimal parser against
the reference `to_micros`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.domain import BadNumber, Side, to_micros
from engine.feeds.market_data_events import MarketResolved, TickSizeChanged, TradePrint
from engine.venues.polymarket import parse, wire
from engine.venues.polymarket.follow.poller import unreadable
from engine.venues.polymarket.parse_markets import clob_market_fees, gamma_event, gamma_market, venue_payouts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket"
ME = wire.Identity.of(["3e2c94ca-8124-c4c1-c7ea-be1ea21b71fe"], ["0xa3D82Ed56F4c68d2328Fb8c29e568Ba2cAF7d7c8"])


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# Every captured file and the parser that reads it; a new fixture without a parser fails.
PARSERS: dict[str, Callable[[Any], Any]] = {
    "ws/book.json": parse.book_snapshot,
    "ws/price_change.json": parse.price_changes,
    "ws/price_change_v2.json": parse.price_changes,
    "ws/last_trade_price.json": lambda m: parse.trade_print(m, 0),
    "ws/tick_size_change.json": lambda m: parse.tick_change(m, 0),
    "ws/order_placement.json": wire.venue_order,
    "ws/order_cancel.json": wire.venue_order,
    "ws/trades.json": lambda m: wire.our_fills(m, ME),
    "ws/user_trade1.json": lambda m: wire.our_fills(m, ME),
    "ws/user_trade2.json": lambda m: wire.our_fills(m, ME),
    "ws/user_trade3.json": lambda m: wire.our_fills(m, ME),
    "ws/user_trade4.json": lambda m: wire.our_fills(m, ME),
    "captured/ws_user_order_cancellation.json": wire.venue_order,
    "captured/ws_user_order_fok_killed.json": wire.venue_order,
    "captured/ws_user_order_matched.json": wire.venue_order,
    "captured/ws_user_order_venue_cancel.json": wire.venue_order,
    "http/book.json": parse.book_snapshot,
    "http/markets_list.json": lambda items: [gamma_market(m) for m in items],
    "http/market_slug.json": gamma_market,
    "http/event.json": gamma_event,
    "captured/gamma_market.json": gamma_market,  # an up/down window as listed, its bid/ask/last trade read
    "captured/gamma_market_sports_market_money_line.json": gamma_market,
    "captured/gamma_market_closed_binary_accepting_false.json": venue_payouts,
    "captured/gamma_market_closed_nonbinary_legacy.json": gamma_market,
    # The Data API's public trades: a followed wallet's (engine/venues/polymarket/follow/poller.py reads each row).
    "captured/data_api_trades_response.json": lambda rows: [row for row in rows if unreadable(row) == ""],
}
# Captured payloads the engine never reads: it lists markets from Gamma `/markets/keyset`, reads
# one event at a time (`/events/{id}`) and takes fees from `/clob-markets/{cid}`; http/market.json
# is the shape the simulator's CLOB copies.
NOT_READ = {"http/market.json", "http/markets.json", "http/events_list.json", "http/trades.json"}


def test_every_captured_payload_has_a_parser_and_parses() -> None:
    files = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.json")}
    assert files == set(PARSERS) | NOT_READ
    for name, parser in PARSERS.items():
        result = parser(load(name))
        assert result is not None and result != [], name


def test_ws_book_snapshot_levels_exact() -> None:
    snap = parse.book_snapshot(load("ws/book.json"))
    assert snap.token_id.startswith("48331043336612883890")
    assert snap.ts_ms == 1728799418260
    assert snap.hash == "655a38d4977427b086c25b985993691b753ed166"
    assert (len(snap.bids), len(snap.asks)) == (76, 86)
    # Wire order is kept: best bid and best ask are the LAST entries.
    assert snap.bids[0] == (1_000, 9_000_023_580_000)
    assert snap.bids[-1] == (511_000, 1_304_720_000)
    assert snap.asks[-1] == (514_000, 20_230_870_000)


def test_rest_book_summary() -> None:
    snap = parse.book_snapshot(load("http/book.json"))
    assert snap.bids[-1] == (100_000, 125_000_000)
    assert snap.asks[-1] == (140_000, 705_000_000)
    assert snap.asks[4] == (380_000, 192_300_000)
    assert snap.ts_ms == 1728799418260


def test_price_change_all_formats() -> None:
    oldest = parse.price_changes(load("ws/price_change.json"))
    assert oldest.changes == [("48331043336612883890938759509493159234755048973500640148014422747788308965732",
                               False, 514_000, 21_574_080_000)]
    assert oldest.ts_ms == 1723967931411 and oldest.entries is None
    new = parse.price_changes(load("ws/price_change_v2.json"))
    token = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
    assert new.changes == [(token, True, 600_000, 3_300_000_000), (token, True, 500_000, 3_400_000_000),
                           (token, True, 700_000, 3_400_000_000)]
    assert new.entries is not None and parse.reported_tops(new.entries) == {token: ("0.6", "0.7")}
    legacy = {"event_type": "price_change", "asset_id": "T", "market": "0xm", "timestamp": "5", "hash": "h",
              "changes": [{"price": "0.4", "side": "SELL", "size": "0"},
                          {"price": "0.3", "side": "BUY", "size": "1.5"}]}
    assert parse.price_changes(legacy).changes == [("T", False, 400_000, 0), ("T", True, 300_000, 1_500_000)]


def test_last_trade_tick_change_and_resolution() -> None:
    trade = parse.trade_print(load("ws/last_trade_price.json"), at_ms=1)
    assert trade == TradePrint("21742633143463906290569050155826241533067272736897614950488156847949938836455",
                               491_000, 85_360_000, Side.SELL, 1724564136087)
    tick = parse.tick_change(load("ws/tick_size_change.json"), at_ms=1)
    assert (tick.old_tick, tick.new_tick, tick.at_ms) == (10_000, 1_000, 1739068041853)
    for blank in ({"old_tick_size": ""}, {"old_tick_size": None}):
        unknown_old = parse.tick_change({**load("ws/tick_size_change.json"), **blank}, at_ms=1)
        assert (unknown_old.old_tick, unknown_old.new_tick) == (None, 1_000)
    coarser = parse.tick_change({**load("ws/tick_size_change.json"), "old_tick_size": "0.001",
                                 "new_tick_size": "0.01"}, at_ms=1)
    assert (coarser.old_tick, coarser.new_tick) == (1_000, 10_000)
    resolved = parse.market_message({"event_type": "market_resolved", "market": "0xc", "winning_asset_id": "7",
                                     "timestamp": "1762776436000"}, at_ms=1)
    assert resolved == MarketResolved("0xc", "7", 1762776436000)


def test_market_frame_accepts_arrays_and_skips_unknown_kinds() -> None:
    frame = json.dumps([load("ws/book.json"), {"event_type": "best_bid_ask"}, load("ws/tick_size_change.json")])
    kinds = [type(m) for m in parse.market_frame(frame, 0)]
    assert kinds == [parse.BookSnapshot, TickSizeChanged]


def test_gamma_markets_string_and_array_token_ids() -> None:
    items = load("http/markets_list.json")
    arrays = [gamma_market(m) for m in items]
    assert arrays[0] is not None and arrays[0].token_ids[0].startswith("6048711698")
    assert arrays[2] is not None and arrays[2].closed and not arrays[2].active
    encoded = dict(items[0], clobTokenIds=json.dumps(items[0]["clobTokenIds"]), outcomes='["Yes", "No"]',
                   version="v1", orderPriceMinTickSize=0.001, orderMinSize=5, volume="101887.832649",
                   liquidityNum=9384.9344, endDate="2025-12-31T12:00:00Z", negRisk=True,
                   tags=[{"label": "Fed"}, {"label": "Rates"}])
    market = gamma_market(encoded)
    assert market is not None
    assert market.token_ids == arrays[0].token_ids
    assert (market.tick, market.min_size, market.volume, market.liquidity) == (1_000, 5_000_000, 101_887_832_649,
                                                                               9_384_934_400)
    assert market.end_ms == 1767182400000 and market.neg_risk and market.tags == ("Fed", "Rates")
    assert market.untradable_reason is None
    assert gamma_market(dict(encoded, version="v3")).untradable_reason.startswith("gamma version v3")
    flipped = gamma_market(dict(encoded, outcomes='["No", "Yes"]'))
    assert flipped.token_ids == tuple(reversed(arrays[0].token_ids))  # YES first, whatever the venue order


def test_protocol_v2_market_trades_its_position_ids() -> None:
    """A Gamma `version: "v2"` item (the captured market with the venue's V2 fields: `positionIds`, a real
    array) is a tradable market whose tokens are the position ids, chosen by the version, never by which
    id fields the item carries; a neg-risk v2 market is listed, refused with the reason."""
    captured = load("captured/gamma_market_sports_market_money_line.json")
    positions = ["4455" + "1" * 70, "4455" + "2" * 70]
    v2 = gamma_market(dict(captured, version="v2", positionIds=positions, outcomes='["Yes", "No"]'))
    assert v2 is not None and v2.protocol_v2 and v2.version == "v2"
    assert v2.token_ids == tuple(positions) and v2.untradable_reason is None
    v1 = gamma_market(dict(captured, version="v1", positionIds=positions))
    assert v1 is not None and not v1.protocol_v2 and v1.token_ids[0] not in positions
    assert gamma_market(dict(captured, version="v2", positionIds=None)) is None  # no position ids: no row
    neg_risk = gamma_market(dict(captured, version="v2", positionIds=positions, negRisk=True))
    assert neg_risk is not None and neg_risk.untradable_reason.startswith("v2: not supported yet")
    event = gamma_event({"id": "e1", "markets": [  # a v2 outcome with its position ids is named, not a placeholder
        {"conditionId": "0xa", "version": "v2", "positionIds": positions},
        {"conditionId": "0xb", "version": "v2", "clobTokenIds": "[]"}]})
    assert [role for _, role, _ in event.members] == ["named", "placeholder"]


def test_clob_market_fees() -> None:
    fees = clob_market_fees({"t": [{"t": "1"}], "mts": 0.01, "mos": 5, "nr": True, "fd": {"r": 0.02, "e": 1}})
    assert (fees.fee_rate_ppm, fees.fee_exponent, fees.tick, fees.neg_risk) == (20_000, 1, 10_000, True)


# -- the fast decimal parser --------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(whole=st.integers(0, 10**12), frac=st.text("0123456789", max_size=9))
def test_micros_agrees_with_to_micros_on_plain_decimals(whole: int, frac: str) -> None:
    text = f"{whole}.{frac}" if frac else str(whole)
    assert parse.micros(text) == to_micros(text)
    assert parse.price_micros(text) == to_micros(text)
    assert parse.price_micros(text) == to_micros(text)  # memo hit


@pytest.mark.parametrize("text", ["0.", ".5", "1e-3", "+0.5", " 0.5", "0.5 ", "1_000.5", "٣.٥", "0.1234567",
                                  "-0.5", "007.50", "5"])
def test_micros_unusual_forms_match_to_micros(text: str) -> None:
    assert parse.micros(text) == to_micros(text)


@pytest.mark.parametrize("text", ["", "abc", "0.5.5", ".", "²", "nan", "inf"])
def test_micros_refuses_what_to_micros_refuses(text: str) -> None:
    with pytest.raises(BadNumber):
        to_micros(text)
    with pytest.raises(BadNumber):
        parse.micros(text)


def test_top_price_treats_venue_empty_markers_as_absent() -> None:
    assert parse.top_price("0") is None and parse.top_price("1") is None and parse.top_price(None) is None
    assert parse.top_price("0.52") == 520_000


def test_a_message_that_cannot_be_read_costs_nothing_else_of_its_frame() -> None:
    book = load("ws/book.json")
    broken = {"event_type": "price_change", "market": "m", "price_changes": [{"asset_id": "A", "side": "BUY"}]}
    trade = {"event_type": "last_trade_price", "asset_id": "A", "price": "zero point five", "side": "BUY"}
    frame = json.dumps([broken, book, trade])
    [parsed] = parse.market_frame(frame, 0)  # the unreadable two are logged and left out
    assert parsed == parse.book_snapshot(book)
