"""The /ws/market and /ws/user channels, driven by real orders and admin calls."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from py_clob_client_v2 import OrderArgs, OrderPayload
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .conftest import new_client, recv_json, recv_until


@contextmanager
def _market_ws(sim, assets: list[str], **extra) -> Iterator:
    with connect(sim.ws_host + "market", open_timeout=5) as ws:
        ws.send(json.dumps({"type": "MARKET", "assets_ids": assets, **extra}))  # any case of "type"
        if extra.get("initial_dump") is False:
            ws.send("PING")
            assert ws.recv(timeout=3) == "PONG"  # no book to wait for: sync on the PONG instead
        yield ws


@contextmanager
def _user_ws(sim, client, markets: list[str] | None = None) -> Iterator:
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        c = client.creds
        ws.send(json.dumps({"type": "user", "markets": markets or [],
                            "auth": {"apiKey": c.api_key, "secret": c.api_secret,
                                     "passphrase": c.api_passphrase}}))
        ws.send("PING")
        assert ws.recv(timeout=3) == "PONG"  # the subscription is in place
        yield ws


def _bid(client, token_id: str, price: float, size: float = 10) -> str:
    return client.post_order(client.create_order(OrderArgs(token_id=token_id, price=price, size=size,
                                                           side="BUY")))["orderID"]


def test_subscribe_sends_book_array_and_ping_pong(sim, market):
    yes, no = market["yes_token_id"], market["no_token_id"]
    sim.place_liquidity(yes, "BUY", "0.4", "10")
    with _market_ws(sim, [yes, no, "123"]) as ws:
        books = recv_json(ws)
        assert isinstance(books, list) and [b["asset_id"] for b in books] == [yes, no]
        assert set(books[0]) == {"event_type", "asset_id", "market", "bids", "asks", "timestamp", "hash"}
        assert books[0]["bids"] == [{"price": "0.4", "size": "10"}]
        assert books[1]["asks"] == [{"price": "0.6", "size": "10"}]
        ws.send("PING")
        assert ws.recv(timeout=3) == "PONG"


def test_price_change_on_place_and_cancel(sim, client, market):
    yes, no = market["yes_token_id"], market["no_token_id"]
    with _market_ws(sim, [yes, no]) as both, _market_ws(sim, [no]) as no_only:
        recv_json(both), recv_json(no_only)
        oid = _bid(client, yes, 0.41)
        msg = recv_until(both, lambda m: m.get("event_type") == "price_change")
        assert set(msg) == {"market", "price_changes", "event_type", "timestamp"}
        assert [(c["asset_id"], c["price"], c["side"], c["size"], c["best_bid"], c["best_ask"])
                for c in msg["price_changes"]] == [(yes, "0.41", "BUY", "10", "0.41", "1"),
                                                  (no, "0.59", "SELL", "10", "0", "0.59")]
        only = recv_until(no_only, lambda m: m.get("event_type") == "price_change")
        assert [c["asset_id"] for c in only["price_changes"]] == [no]
        client.cancel_order(OrderPayload(orderID=oid))
        gone = recv_until(both, lambda m: m.get("event_type") == "price_change")
        assert [c["size"] for c in gone["price_changes"]] == ["0", "0"]


def test_trade_sends_last_trade_price_and_books(sim, client, market):
    yes, no = market["yes_token_id"], market["no_token_id"]
    sim.place_liquidity(yes, "BUY", "0.6", "50")  # a YES bid at 0.6 is a NO ask at 0.4
    with _market_ws(sim, [yes, no]) as ws:
        recv_json(ws)
        client.post_order(client.create_order(OrderArgs(token_id=no, price=0.4, size=20, side="BUY")))
        ltp = recv_until(ws, lambda m: m.get("event_type") == "last_trade_price" and m["asset_id"] == no)
        assert (ltp["price"], ltp["side"], ltp["size"]) == ("0.4", "BUY", "20")
        book = recv_until(ws, lambda m: m.get("event_type") == "book" and m["asset_id"] == yes)
        assert book["bids"] == [{"price": "0.6", "size": "30"}]


def test_dynamic_subscribe_and_unsubscribe(sim, market):
    yes, no = market["yes_token_id"], market["no_token_id"]
    with _market_ws(sim, [yes]) as ws:
        recv_json(ws)
        ws.send(json.dumps({"assets_ids": [no], "operation": "subscribe"}))
        assert recv_json(ws)[0]["asset_id"] == no
        ws.send(json.dumps({"assets_ids": [yes, no], "operation": "unsubscribe"}))
        ws.send("PING")
        assert ws.recv(timeout=3) == "PONG"
        sim.place_liquidity(yes, "BUY", "0.3", "10")
        ws.send("PING")
        assert ws.recv(timeout=3) == "PONG"  # nothing for the unsubscribed assets came first


def test_initial_dump_false_and_tick_size_change(sim, market):
    yes, no = market["yes_token_id"], market["no_token_id"]
    with _market_ws(sim, [yes, no], initial_dump=False) as ws:
        sim.set_tick_size(market["condition_id"], "0.001")
        try:
            msgs = [recv_json(ws), recv_json(ws)]
        finally:
            sim.set_tick_size(market["condition_id"], market["tick_size"])
    assert {m["event_type"] for m in msgs} == {"tick_size_change"}
    assert [(m["asset_id"], m["old_tick_size"], m["new_tick_size"]) for m in msgs] == [
        (yes, market["tick_size"], "0.001"), (no, market["tick_size"], "0.001")]


def test_user_channel_order_and_trade_events(sim, market, nr_market):
    yes = market["yes_token_id"]
    maker, taker = new_client(sim), new_client(sim)
    with _user_ws(sim, maker) as ws, _user_ws(sim, maker, [nr_market["condition_id"]]) as other_market:
        oid = _bid(maker, yes, 0.45, 20)
        placed = recv_until(ws, lambda m: m.get("event_type") == "order")
        assert (placed["type"], placed["id"], placed["status"], placed["size_matched"]) == (
            "PLACEMENT", oid, "LIVE", "0")
        sim.fund(taker.get_address(), token_id=yes, tokens="5")
        taker.post_order(taker.create_order(OrderArgs(token_id=yes, price=0.45, size=5, side="SELL")))
        update = recv_until(ws, lambda m: m.get("event_type") == "order")
        assert (update["type"], update["size_matched"]) == ("UPDATE", "5")
        trade = recv_until(ws, lambda m: m.get("event_type") == "trade")
        assert (trade["type"], trade["status"], trade["trader_side"]) == ("TRADE", "MATCHED", "MAKER")
        assert trade["maker_orders"][0]["order_id"] == oid and trade["trade_owner"] == maker.creds.api_key
        maker.cancel_order(OrderPayload(orderID=oid))
        cancel = recv_until(ws, lambda m: m.get("event_type") == "order" and m["type"] == "CANCELLATION")
        assert cancel["status"] == "CANCELED"
        other_market.send("PING")
        assert other_market.recv(timeout=3) == "PONG"  # filtered: nothing for this market


def test_user_channel_rejects_bad_auth(sim, client):
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        c = client.creds
        ws.send(json.dumps({"type": "user", "markets": [],
                            "auth": {"apiKey": c.api_key, "secret": c.api_secret, "passphrase": "0" * 64}}))
        with pytest.raises(ConnectionClosed) as exc:
            ws.recv(timeout=3)
    assert exc.value.rcvd.code == 1008


def test_silent_client_is_dropped(sim, market):
    sim.configure(ws_idle_timeout_s=0.4)
    try:
        with _market_ws(sim, [market["yes_token_id"]]) as ws:
            recv_json(ws)
            with pytest.raises(ConnectionClosed):
                while True:  # bounded: the server closes after 0.4 s of silence
                    ws.recv(timeout=3)
        with _market_ws(sim, [market["yes_token_id"]]) as ws:
            recv_json(ws)
            with pytest.raises(ConnectionClosed):
                for _ in range(30):  # protocol-level pings are answered but are not "activity"
                    ws.ping()
                    time.sleep(0.1)
        with _market_ws(sim, [market["yes_token_id"]]) as ws:
            recv_json(ws)
            for _ in range(10):  # text PINGs keep the connection alive past the timeout
                ws.send("PING")
                assert ws.recv(timeout=3) == "PONG"
                time.sleep(0.1)
    finally:
        sim.configure(ws_idle_timeout_s=5.0)
