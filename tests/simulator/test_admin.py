"""The ``/_sim/...`` control API a subprocess simulator is driven with, and the
harness helpers that share its implementation."""

from __future__ import annotations

import json

import httpx
import pytest
from py_clob_client_v2 import ClobClient, OrderArgs
from websockets.sync.client import connect

from .conftest import new_client, recv_until


def _post(sim, path: str, **body) -> httpx.Response:
    return httpx.post(sim.clob_host + "/_sim/" + path, json=body, timeout=5)


def test_markets_state_and_config(sim):
    markets = httpx.get(sim.clob_host + "/_sim/markets").json()
    assert len(markets) == 14 and {"condition_id", "yes_token_id", "no_token_id", "tick_size", "min_size",
                                   "neg_risk", "neg_risk_market_id"} <= set(markets[0])
    assert sum(m["neg_risk"] for m in markets) >= 3
    assert _post(sim, "config", fail_rate=0.0, mined_delay_s=0.2).json()["mined_delay_s"] == 0.2
    assert _post(sim, "config", seed=3).status_code == 400
    state = httpx.get(sim.clob_host + "/_sim/state").json()
    assert state["port"] == sim.port and state["agents"] is False


def test_liquidity_trade_print_fund_and_accounts(sim, market):
    yes = market["yes_token_id"]
    placed = _post(sim, "liquidity", token_id=yes, side="SELL", price="0.66", size="12").json()
    assert placed["status"] == "LIVE" and placed["order_id"].startswith("0x")
    client = ClobClient(sim.clob_host, 137)
    assert client.get_order_book(yes)["asks"] == [{"price": "0.66", "size": "12"}]
    printed = _post(sim, "trade", token_id=yes, price="0.64", size="3", side="SELL").json()
    assert printed["price"] == "0.64"
    assert client.get_last_trade_price(yes) == {"price": "0.64", "side": "SELL"}
    addr = "0x" + "ab" * 20
    funded = _post(sim, "fund", address=addr, pusd="5.5", token_id=yes, tokens="2").json()
    assert funded["pusd"] == "10005.5" and funded["tokens"] == {yes: "2"}
    assert httpx.get(sim.clob_host + f"/_sim/accounts/{addr}").json()["open_orders"] == 0
    assert _post(sim, "liquidity", token_id="1", side="BUY", price="0.5", size="1").status_code == 400
    assert _post(sim, "fund", address=addr, pusd="0.0000001").status_code == 400


def test_latent_tick_size_and_clear_book(sim, market):
    cid, yes = market["condition_id"], market["yes_token_id"]
    assert _post(sim, "latent", condition_id=cid, p=0.8).json()["latent"] == pytest.approx(0.8)
    assert _post(sim, "tick-size", ref=yes, tick_size="0.001").json()["tick_size"] == "0.001"
    assert ClobClient(sim.clob_host, 137).get_tick_size(yes) == "0.001"
    _post(sim, "tick-size", ref=cid, tick_size=market["tick_size"])
    sim.place_liquidity(yes, "BUY", "0.3", "10")
    assert _post(sim, "clear-book", condition_id=cid).json() == {"canceled": 1}


def _next_event(ws, kind: str) -> dict:
    """The next market-channel message of `kind` (frames may carry a list of messages)."""
    found = recv_until(ws, lambda m: any(x.get("event_type") == kind for x in (m if isinstance(m, list) else [m])))
    return next(x for x in (found if isinstance(found, list) else [found]) if x.get("event_type") == kind)


def test_trading_past_the_extremes_refines_the_tick_and_back_inside_coarsens_it(sim, market):
    yes, cid = market["yes_token_id"], market["condition_id"]
    assert market["tick_size"] == "0.01"
    with connect(sim.ws_host + "market", open_timeout=5) as ws:
        ws.send(json.dumps({"type": "market", "assets_ids": [yes]}))
        _next_event(ws, "book")
        try:
            sim.print_trade(yes, "0.97", "10", "BUY")
            assert ClobClient(sim.clob_host, 137).get_tick_size(yes) == "0.001"
            finer = _next_event(ws, "tick_size_change")
            sim.print_trade(yes, "0.955", "10", "SELL")  # back inside (0.04, 0.96)
            assert ClobClient(sim.clob_host, 137).get_tick_size(yes) == "0.01"
            coarser = _next_event(ws, "tick_size_change")
            sim.set_tick_size(cid, "0.001", old_tick_size="")  # the venue sometimes leaves the old tick out
            blank = _next_event(ws, "tick_size_change")
        finally:
            sim.set_tick_size(cid, "0.01")
    assert (finer["old_tick_size"], finer["new_tick_size"], finer["market"]) == ("0.01", "0.001", cid)
    assert (coarser["old_tick_size"], coarser["new_tick_size"]) == ("0.001", "0.01")
    assert (blank["old_tick_size"], blank["new_tick_size"]) == ("", "0.001")
    assert set(finer) == {"asset_id", "event_type", "market", "new_tick_size", "old_tick_size", "timestamp"}


def test_open_order_count_and_link_funder(sim, market):
    client = new_client(sim)
    args = OrderArgs(token_id=market["yes_token_id"], price=0.2, size=10, side="BUY")
    client.post_order(client.create_order(args))
    assert sim.open_order_count(client.get_address()) == 1
    funder = "0x" + "cd" * 20
    linked = _post(sim, "link-funder", signer=client.get_address(), funder=funder, signature_type=2).json()
    assert linked["funder"] == funder


def test_unknown_route_is_a_json_error(sim):
    resp = httpx.get(sim.clob_host + "/no-such-endpoint")
    assert resp.status_code == 404 and resp.json() == {"error": "not found"}
