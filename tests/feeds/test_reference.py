"""The optional reference-price feed against a local WebSocket source."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.server import ServerConnection, serve

from engine.feeds.pacing import Backoff
from engine.feeds.reference import ReferenceFeed
from tests.feeds.fakes import eventually


def test_latest_price_per_condition_with_receive_time_and_bad_input_ignored() -> None:
    async def scenario() -> None:
        connections: list[ServerConnection] = []

        async def source(ws: ServerConnection) -> None:
            connections.append(ws)
            if len(connections) == 1:
                await ws.send(json.dumps({"condition_id": "0xa", "price": "0.53"}))
                await ws.send(json.dumps([{"condition_id": "0xb", "price": 0.25}, {"condition_id": "0xa", "price": "0.55"}]))
                for bad in ('{"condition_id": "0xa", "price": "1.5"}', '{"condition_id": "0xa", "price": "x"}',
                            '{"price": "0.5"}', "not json", '{"condition_id": "0xa"}'):
                    await ws.send(bad)
                await ws.close()  # the source goes away: the feed must come back
                return
            await ws.send(json.dumps({"condition_id": "0xa", "price": "0.6"}))
            await ws.wait_closed()

        async with serve(source, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            clock = iter(range(1_000, 10**9, 1_000))
            feed = ReferenceFeed(f"ws://127.0.0.1:{port}", clock_ms=lambda: next(clock),
                                 backoff=Backoff(initial_s=0.05, floor_s=0.05))
            await feed.start()
            try:
                await eventually(lambda: feed.reference("0xb") is not None)
                assert feed.reference("0xb")[0] == 250_000
                await eventually(lambda: (feed.reference("0xa") or (0,))[0] == 600_000)
                price, at = feed.reference("0xa")
                assert at > feed.reference("0xb")[1]  # the receive time of the newest value
                assert feed.rejected == 5 and feed.stats.connects == 2
                assert feed.reference("0xunknown") is None
            finally:
                await feed.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_recent_prices_are_kept_per_market_bounded_and_a_repeat_only_moves_its_time() -> None:
    from engine.feeds.reference import HISTORY

    clock = iter(range(1_000, 10**9, 1_000))
    feed = ReferenceFeed("ws://127.0.0.1:1", clock_ms=lambda: next(clock))
    for price in ("0.50", "0.52", "0.52", "0.49"):
        feed.on_text(json.dumps({"condition_id": "0xa", "price": price}))
    assert feed.history("0xa") == ((1_000, 500_000), (3_000, 520_000), (4_000, 490_000))
    assert feed.history("0xa") is feed.history("0xa")  # handed out once until it changes
    assert feed.history("0xb") == ()
    for n in range(HISTORY + 10):
        feed.on_text(json.dumps({"condition_id": "0xa", "price": f"0.{100 + n % 2}"}))
    points = feed.history("0xa")
    assert len(points) == HISTORY and points[-1][0] == feed.reference("0xa")[1]
