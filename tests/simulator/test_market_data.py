"""Public market-data calls of the real py-clob-client-v2 against the simulator."""

from __future__ import annotations

import time

import pytest
from py_clob_client_v2 import BookParams, PricesHistoryParams
from py_clob_client_v2.exceptions import PolyApiException

from .conftest import wait_for


@pytest.fixture
def quoted(sim, market):
    """Two bid and two ask levels on the market's first (YES) token."""
    yes = market["yes_token_id"]
    for side, price, size in (("BUY", "0.47", "50"), ("BUY", "0.48", "100"),
                              ("SELL", "0.52", "30"), ("SELL", "0.53", "40")):
        sim.place_liquidity(yes, side, price, size)
    return market


def test_health_version_time(client):
    assert client.get_ok() == "OK"
    assert client.get_version() == 2
    assert isinstance(client.get_version(), int)
    assert abs(client.get_server_time() - time.time()) < 5


def test_book_orders_best_level_last_and_hash_verifies(client, quoted):
    book = client.get_order_book(quoted["yes_token_id"])
    assert set(book) == {"market", "asset_id", "timestamp", "hash", "bids", "asks", "min_order_size",
                         "tick_size", "neg_risk", "last_trade_price"}
    assert [b["price"] for b in book["bids"]] == ["0.47", "0.48"]  # ascending: best last
    assert [a["price"] for a in book["asks"]] == ["0.53", "0.52"]  # descending: best last
    assert book["bids"][-1]["size"] == "100"
    assert book["tick_size"] == quoted["tick_size"]
    assert client.get_order_book_hash(dict(book)) == book["hash"]


def test_no_book_mirrors_yes_book(client, quoted):
    no_book = client.get_order_book(quoted["no_token_id"])
    assert [(b["price"], b["size"]) for b in no_book["bids"]] == [("0.47", "40"), ("0.48", "30")]
    assert [(a["price"], a["size"]) for a in no_book["asks"]] == [("0.53", "50"), ("0.52", "100")]


def test_books_batch(client, quoted):
    books = client.get_order_books([BookParams(token_id=quoted["yes_token_id"]),
                                    BookParams(token_id=quoted["no_token_id"])])
    assert [b["asset_id"] for b in books] == [quoted["yes_token_id"], quoted["no_token_id"]]


def test_prices_midpoints_spreads(client, quoted):
    yes, no = quoted["yes_token_id"], quoted["no_token_id"]
    assert client.get_midpoint(yes) == {"mid": "0.5"}
    # The live quirk: BUY answers the best bid, SELL the best ask.
    assert client.get_price(yes, "BUY") == {"price": "0.48"}
    assert client.get_price(yes, "SELL") == {"price": "0.52"}
    assert client.get_spread(yes) == {"spread": "0.04"}
    mids = client.get_midpoints([BookParams(token_id=yes), BookParams(token_id=no)])
    assert mids == {yes: "0.5", no: "0.5"}
    prices = client.get_prices([BookParams(token_id=yes, side="BUY"), BookParams(token_id=yes, side="SELL")])
    assert prices == {yes: {"BUY": "0.48", "SELL": "0.52"}}
    assert client.get_spreads([BookParams(token_id=no)]) == {no: "0.04"}


def test_tick_size_neg_risk_and_market_info(client, sim, quoted, nr_market):
    yes = quoted["yes_token_id"]
    assert client.get_tick_size(yes) == quoted["tick_size"]
    assert client.get_neg_risk(yes) is False
    info = client.get_clob_market_info(nr_market["condition_id"])
    assert [t["t"] for t in info["t"]] == [nr_market["yes_token_id"], nr_market["no_token_id"]]
    assert info["nr"] is True and str(info["mts"]) == nr_market["tick_size"]
    assert "nr" not in client.get_clob_market_info(quoted["condition_id"])


def test_get_market_shape(client, quoted):
    m = client.get_market(quoted["condition_id"])
    assert m["condition_id"] == quoted["condition_id"]
    assert m["accepting_orders"] is True and m["closed"] is False
    assert [t["token_id"] for t in m["tokens"]] == [quoted["yes_token_id"], quoted["no_token_id"]]
    assert m["tokens"][0]["price"] == 0.5


def test_last_trade_price_follows_prints(client, sim, market):
    yes, no = market["yes_token_id"], market["no_token_id"]
    sim.print_trade(yes, "0.61", "10", "BUY")
    assert client.get_last_trade_price(yes) == {"price": "0.61", "side": "BUY"}
    assert client.get_last_trade_price(no) == {"price": "0.39", "side": "SELL"}


def test_prices_history_from_recorded_mids(client, sim, market):
    yes = market["yes_token_id"]
    sim.place_liquidity(yes, "BUY", "0.70", "10")
    sim.place_liquidity(yes, "SELL", "0.72", "10")
    now = int(time.time())
    points = wait_for(lambda: [p for p in client.get_prices_history(
        PricesHistoryParams(market=yes, start_ts=now - 1, end_ts=now + 60))["history"] if p["p"] == 0.71])
    assert points[-1]["t"] >= now - 1
    day = PricesHistoryParams(market=yes, interval="1d", fidelity=60)
    backfill = client.get_prices_history(day)["history"]
    assert 20 <= len(backfill) <= 26  # a day of seeded history at 60-minute fidelity
    no_hist = client.get_prices_history(PricesHistoryParams(market=market["no_token_id"], interval="1h"))
    assert no_hist["history"][-1]["p"] == pytest.approx(0.29)


def test_unknown_token_is_404(client):
    with pytest.raises(PolyApiException) as exc:
        client.get_order_book("123")
    assert exc.value.status_code == 404
    assert exc.value.error_msg == {"error": "No orderbook exists for the requested token id"}


def test_clob_markets_listing_pages_to_end(client):
    first = client.get_markets()
    assert first["next_cursor"] == "LTE="
    assert first["count"] == len(first["data"]) == 14
