"""The simulator's real-time data socket (`/rtds`), spoken as Polymarket documents its RTDS: a
`crypto_prices_chainlink` subscription with a `{"symbol": "btc/usd"}` filter gets the symbol's recent
prices first, then each Chainlink report (the price the up/down windows settle on); an `activity`
`trades` subscription gets every trade the moment it is matched, one message per side of it, in the
Data API's row shape; PING is answered PONG; an unknown topic gets nothing; a client that stops
pinging is dropped."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import websockets

from simulator import rtds
from simulator.testing import SimHandle, running_simulator

pytestmark = pytest.mark.slow


def _subscribe(*subscriptions: dict[str, Any], action: str = "subscribe") -> str:
    return json.dumps({"action": action, "subscriptions": list(subscriptions)})


async def _collect(port: int, requests: list[str], until: Any, timeout: float = 15) -> list[Any]:
    """Messages received (JSON decoded, PONG as text) after sending `requests`, until `until(got)`."""
    got: list[Any] = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/rtds") as ws:
        for text in requests:
            await ws.send(text)
        deadline = time.monotonic() + timeout
        while not until(got):
            raw = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
            got.append(raw if raw in ("PONG", "pong") else json.loads(raw))
    return got


def test_chainlink_prices_are_streamed_with_a_first_dump_of_recent_ones() -> None:
    with running_simulator(seed=12, updown_series="btc-updown-5m,eth-updown-15m", agents=False) as sim:
        port = sim.sim.port
        wanted = {"topic": "crypto_prices_chainlink", "type": "*", "filters": '{"symbol":"btc/usd"}'}
        got = asyncio.run(_collect(port, [_subscribe(wanted), "PING"],
                                   lambda g: sum(isinstance(m, dict) and "value" in m["payload"] for m in g) >= 2))
        dump, *rest = [m for m in got if isinstance(m, dict)]
        assert "PONG" in got
        assert dump["topic"] == "crypto_prices_chainlink" and dump["payload"]["symbol"] == "btc/usd"
        oracle = sim.sim.updown.spot.chainlink["btc"]
        dumped = [(p["timestamp"], p["value"]) for p in dump["payload"]["data"]]
        reported = [(int(at * 1000), price) for at, price in oracle.points]
        assert len(dumped) >= 100 and dumped == reported[reported.index(dumped[0]):][:len(dumped)]  # its last 2 min
        assert dumped[-1][0] - dumped[0][0] <= rtds.DUMP_S * 1000
        update = rest[0]
        assert update["type"] == "update" and set(update["payload"]) == {"symbol", "timestamp", "value",
                                                                        "full_accuracy_value"}
        assert update["payload"]["symbol"] == "btc/usd" and update["timestamp"] >= update["payload"]["timestamp"]
        assert any(abs(update["payload"]["value"] - price) < 1e-6 for _, price in oracle.points)
        assert all(m["payload"]["symbol"] == "btc/usd" for m in rest)  # the filter holds

        everything = asyncio.run(_collect(port, [_subscribe({"topic": "crypto_prices_chainlink", "type": "update"})],
                                          lambda g: {m["payload"]["symbol"] for m in g} >= {"btc/usd", "eth/usd"}))
        assert all("data" not in m["payload"] for m in everything)  # no dump without a filter


def test_every_trade_is_streamed_as_it_is_matched_and_bad_subscriptions_get_nothing(monkeypatch) -> None:
    monkeypatch.setattr(rtds, "RTDS_IDLE_S", 1.5)
    with running_simulator(seed=13, agents=False) as sim:
        port = sim.sim.port
        market = sim.market(neg_risk=False, index=1)

        async def scenario() -> tuple[list[Any], list[Any], bool]:
            async with websockets.connect(f"ws://127.0.0.1:{port}/rtds") as trades, \
                    websockets.connect(f"ws://127.0.0.1:{port}/rtds") as wrong:
                await trades.send(_subscribe({"topic": "activity", "type": "trades"}))
                await wrong.send(_subscribe({"topic": "activity", "type": "comments"},
                                            {"topic": "news", "type": "*"}))
                await wrong.send("{not json")
                await asyncio.sleep(0.2)
                await asyncio.to_thread(_trade, sim, market)
                first = [json.loads(await asyncio.wait_for(trades.recv(), 10)) for _ in range(2)]
                try:
                    stray = [await asyncio.wait_for(wrong.recv(), 0.5)]
                except TimeoutError:
                    stray = []
                try:  # nothing sent since: dropped as idle (1.5 s here), however late a loaded machine runs the check
                    await asyncio.wait_for(trades.recv(), 60)
                    dropped = False
                except websockets.ConnectionClosed:
                    dropped = True
                return first, stray, dropped

        first, stray, dropped = asyncio.run(scenario())
        assert stray == [] and dropped
        rows = [m["payload"] for m in first]
        assert {m["topic"] for m in first} == {"activity"} and {m["type"] for m in first} == {"trades"}
        assert {r["side"] for r in rows} == {"BUY", "SELL"}  # the taker's row and the maker's
        for row in rows:
            assert row["conditionId"] == market["condition_id"] and row["asset"] == market["yes_token_id"]
            assert row["price"] == 0.42 and row["size"] == 7.0 and row["slug"]
            assert {"proxyWallet", "transactionHash", "timestamp", "outcome", "outcomeIndex", "eventSlug",
                    "name", "pseudonym"} <= set(row)


def _trade(sim: SimHandle, market: dict[str, Any]) -> None:
    sim.print_trade(market["yes_token_id"], "0.42", "7", "BUY")
