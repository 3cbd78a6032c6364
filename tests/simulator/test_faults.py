"""Each fault knob has an observable effect (and clearing it removes the effect)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from py_clob_client_v2 import OrderArgs
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.http_helpers import helpers as client_http
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from simulator.testing import approved_simulator

from .conftest import FAST, recv_json, wait_for


@pytest.fixture(autouse=True)
def no_faults_after(sim) -> Iterator[None]:
    yield
    sim.clear_faults()


def _order(client, token_id: str, price: float = 0.3):
    return client.create_order(OrderArgs(token_id=token_id, price=price, size=10, side="BUY"))


def test_latency(sim, client, market):
    # A latency no loaded machine's local request reaches without it (a lower bound is safe under
    # load; an upper one is only where it is far above what a request costs).
    yes = market["yes_token_id"]
    sim.set_faults(latency_ms=3000)
    t0 = time.perf_counter()
    client.get_midpoint(yes)
    assert time.perf_counter() - t0 >= 3.0
    sim.clear_faults()
    t0 = time.perf_counter()
    client.get_midpoint(yes)
    assert time.perf_counter() - t0 < 3.0


def test_error_statuses_on_order_endpoints(sim, client, market):
    yes = market["yes_token_id"]
    order = _order(client, yes)
    sim.set_faults(error_rate=1.0, error_codes=[425])
    with pytest.raises(PolyApiException) as exc:
        client.post_order(order)
    assert exc.value.status_code == 425
    assert client.get_open_orders() == []  # refused before processing
    assert client.get_midpoint(yes) == {"mid": "0.5"}  # market data is out of scope
    sim.set_faults(error_codes=[429, 503])
    statuses = set()
    for _ in range(12):
        with pytest.raises(PolyApiException) as exc:
            client.cancel_all()
        statuses.add(exc.value.status_code)
    assert statuses == {429, 503}
    sim.clear_faults()
    assert client.post_order(order)["status"] == "live"


def test_error_scope_all_and_partial_rate(sim, client, market):
    sim.set_faults(error_rate=1.0, error_scope="all", error_codes=[500])
    with pytest.raises(PolyApiException) as exc:
        client.get_midpoint(market["yes_token_id"])
    assert exc.value.status_code == 500
    sim.set_faults(error_rate=0.5, error_scope="orders")
    outcomes = []
    for _ in range(40):
        try:
            client.cancel_all()
            outcomes.append(True)
        except PolyApiException:
            outcomes.append(False)
    assert 5 < outcomes.count(False) < 35


def test_timeout_processes_the_order_but_answers_late(sim, client, market, monkeypatch):
    # The client's module-level httpx.Client has a 5 s timeout; shrink it so the test is quick.
    # The answer held far longer than the client waits, so that giving up before it is told apart
    # from receiving it late however loaded the machine.
    monkeypatch.setattr(client_http._http_client, "timeout", httpx.Timeout(0.5))
    sim.set_faults(timeout_rate=1.0, timeout_hold_s=12)
    order = _order(client, market["yes_token_id"])
    t0 = time.perf_counter()
    with pytest.raises(PolyApiException) as exc:
        client.post_order(order)
    assert exc.value.error_msg == "Request exception!" and time.perf_counter() - t0 < 11
    assert sim.open_order_count(client.get_address()) == 1  # it went through server-side
    monkeypatch.undo()
    sim.clear_faults()
    assert client.get_open_orders()[0]["status"] == "LIVE"


def _subscribe(ws, assets: list[str], dump: bool = True) -> None:
    ws.send(json.dumps({"type": "market", "assets_ids": assets, "initial_dump": dump}))
    if not dump:
        ws.send("PING")
        assert ws.recv(timeout=3) == "PONG"


def test_ws_drop_after_n_messages(sim, client, market):
    yes = market["yes_token_id"]
    sim.set_faults(ws_drop_every=2)
    with connect(sim.ws_host + "market", open_timeout=5) as ws:
        _subscribe(ws, [yes])
        recv_json(ws)  # message 1: the book
        client.post_order(_order(client, yes))
        assert recv_json(ws)["event_type"] == "price_change"  # message 2
        with pytest.raises(ConnectionClosed) as exc:
            ws.recv(timeout=3)
    assert exc.value.rcvd.code == 1011


def test_ws_drop_every_seconds(sim, market):
    sim.set_faults(ws_drop_every_s=0.5)
    with connect(sim.ws_host + "market", open_timeout=5) as ws:
        _subscribe(ws, [market["yes_token_id"]])
        recv_json(ws)
        deadline = time.monotonic() + 30  # an active client answered for 30 s was never dropped
        with pytest.raises(ConnectionClosed):
            while time.monotonic() < deadline:
                ws.send("PING")  # an active client is dropped all the same
                ws.recv(timeout=3)
                time.sleep(0.05)


def test_ws_duplicates(sim, market):
    sim.set_faults(ws_dup_rate=1.0)
    with connect(sim.ws_host + "market", open_timeout=5) as ws:
        _subscribe(ws, [market["yes_token_id"]])
        first, second = recv_json(ws), recv_json(ws)
    assert first == second and isinstance(first, list)


def test_ws_reorder(sim, client, market):
    yes = market["yes_token_id"]
    sim.set_faults(ws_reorder_rate=1.0)
    with connect(sim.ws_host + "market", open_timeout=5) as ws:
        _subscribe(ws, [yes], dump=False)
        client.post_order(_order(client, yes, 0.31))
        client.post_order(_order(client, yes, 0.32))
        prices = [recv_json(ws)["price_changes"][0]["price"] for _ in range(2)]
    assert prices == ["0.32", "0.31"]


def test_a_frozen_market_channel_answers_pings_and_sends_no_data_while_the_book_moves(sim, client, market):
    """The venue's market socket can stay open and answer PING with PONG while it sends no book
    data; its REST book keeps moving. The freeze is a window from when it is set."""
    yes = market["yes_token_id"]
    with connect(sim.ws_host + "market", open_timeout=5) as ws:
        _subscribe(ws, [yes])
        recv_json(ws)  # the book
        frozen = httpx.post(sim.clob_host + "/_sim/faults", json={"market_feed_freeze_s": 1.5}).json()
        assert frozen["market_feed_freeze_s"] == 1.5 and frozen["market_feed_frozen_for_s"] > 1
        client.post_order(_order(client, yes, 0.31))  # the book moves...
        ws.send("PING")
        assert ws.recv(timeout=3) == "PONG"  # ...the socket answers, and says nothing of the book
        assert client.get_order_book(yes)["bids"][-1]["price"] == "0.31"  # REST keeps the true book
        _subscribe(ws, [yes])  # not even the snapshot a subscription sends
        wait_for(lambda: httpx.get(sim.clob_host + "/_sim/faults").json()["market_feed_frozen_for_s"] == 0, 5)
        ws.send("PING")
        assert ws.recv(timeout=3) == "PONG"
        client.post_order(_order(client, yes, 0.32))
        assert recv_json(ws)["price_changes"][0]["price"] == "0.32"  # data flows again
    assert httpx.get(sim.clob_host + "/_sim/faults").json()["stats"]["ws_frozen"] >= 2  # what was not sent never is


def test_faults_over_admin_http(sim, client):
    resp = httpx.post(sim.clob_host + "/_sim/faults", json={"error_rate": 1, "error_scope": "all"})
    assert resp.status_code == 200 and resp.json()["error_rate"] == 1.0
    with pytest.raises(PolyApiException):
        client.get_ok()
    assert httpx.get(sim.clob_host + "/_sim/faults").json()["stats"]["errors"] >= 1
    assert httpx.delete(sim.clob_host + "/_sim/faults").json()["error_rate"] == 0.0
    assert client.get_ok() == "OK"
    bad = httpx.post(sim.clob_host + "/_sim/faults", json={"nonsense": 1})
    assert bad.status_code == 400


def test_faults_from_startup_config():
    with approved_simulator(seed=9, latency_ms=120, **FAST) as slow:
        t0 = time.perf_counter()
        assert httpx.get(slow.clob_host + "/ok").status_code == 200
        assert time.perf_counter() - t0 >= 0.12
        assert httpx.get(slow.clob_host + "/_sim/faults").json()["latency_ms"] == 120
