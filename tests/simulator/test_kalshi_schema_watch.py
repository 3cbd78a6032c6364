"""The test session's check of the simulator's Kalshi side (simulator/kalshi/conformance.py): with
SIM_KALSHI_CONFORMANCE set, an answer or a WebSocket message outside Kalshi's published schema is
reported naming its route and field, whoever served it; unset, nothing is checked (production)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import websockets

from engine.feeds.kalshi_http import KalshiSigner
from simulator.kalshi import ws as kalshi_ws
from simulator.kalshi.conformance import ENV
from simulator.kalshi.side import KalshiSide
from simulator.testing import running_simulator
from tests.kalshi import account, binary_tickers, host


def test_answers_and_messages_outside_kalshis_schema_are_reported_with_their_route_and_field(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "kalshi-problems.log"
    monkeypatch.setenv(ENV, str(report))  # this simulator's own report, not the session's
    with running_simulator(seed=5, agents=False, prefill_books=False, kalshi_markets=2) as sim:
        ticker = binary_tickers(sim)[0]
        assert httpx.get(f"{host(sim)}/markets/{ticker}").status_code == 200
        assert not report.exists()  # the simulator as built answers in Kalshi's shapes
        sim.call(lambda: setattr(sim.sim.kalshi.exchange.markets[ticker], "status", "halted"))
        httpx.get(f"{host(sim)}/markets/{ticker}")
        from simulator.kalshi import payloads

        market = payloads.market
        monkeypatch.setattr(payloads, "market", lambda m, book: {**market(m, book), "liquidity_dollars": "0.0000"})
        httpx.get(f"{host(sim)}/markets")  # a field Kalshi removed (2026): reported wherever it is sent
        monkeypatch.setattr(payloads, "market", market)
        unknown = httpx.get(f"{host(sim)}/no/such/route")  # answered by no route: still Kalshi's envelope
        assert unknown.json() == {"error": {"code": "not_found", "message": "not found"}}
        key_id, private, _ = account(sim)
        monkeypatch.setattr(kalshi_ws, "count", lambda micro: micro / 1e6)  # a number where Kalshi sends a string

        async def snapshot() -> None:
            url = f"ws://127.0.0.1:{sim.port}/trade-api/ws/v2"
            headers = KalshiSigner(key_id, private).headers("GET", "/trade-api/ws/v2")
            async with websockets.connect(url, additional_headers=headers) as ws:
                await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
                    "channels": ["orderbook_delta"], "market_tickers": [binary_tickers(sim)[1]]}}))
                for _ in range(2):  # subscribed, then the snapshot
                    await asyncio.wait_for(ws.recv(), 10)

        asyncio.run(snapshot())
    told = report.read_text().splitlines()
    route_and_field = "GET /markets/{ticker} 200: GetMarketResponse: market/status: 'halted' is not one of"
    assert any(line.startswith(route_and_field) for line in told), told
    assert not [line for line in told if "(unrouted)" in line], told
    removed = "GET /markets 200: GetMarketsResponse: markets/0/liquidity_dollars: a field Kalshi removed"
    assert any(line.startswith(removed) for line in told), told
    assert any(line.startswith("ws orderbook_snapshot: msg/yes_dollars_fp/0/1: ") for line in told), told


def test_nothing_is_checked_unless_a_test_session_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV)
    side = KalshiSide(1, 1, 0, 5.0, False, 3600.0)
    assert side.schema_watch is None and side.hub.watch is None
