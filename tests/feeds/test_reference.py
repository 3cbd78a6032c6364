"""The optional reference-price feed against a local WebSocket source."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.server import ServerConnection, serve

from engine.feeds.pacing import Backoff
from engine.feeds.reference import ReferenceFeed
from tests.feeds.fakes import eventually


def _known(feed: ReferenceFeed, condition_id: str) -> tuple[int, int]:
    """The feed's (price, receive time) for a market it has heard (fails the test when it has not)."""
    latest = feed.reference(condition_id)
    assert latest is not None, f"no reference price for {condition_id}"
    return latest

def test_latest_price_per_condition_with_receive_time_and_bad_input_ignored() -> None:
    async def scenario() -> None:
        connections: list[ServerConnection] = []

        async def source(ws: ServerConnection) -> None:
            connections.append(ws)
            if len(connections) == 1:
                await ws.send(json.dumps({"condition_id": "0xa", "price": "0.53"}))
                await ws.send(json.dumps([{"condition_id": "0xb", "price": 0.25},
                                          {"condition_id": "0xa", "price": "0.55"}]))
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
                assert _known(feed, "0xb")[0] == 250_000
                await eventually(lambda: (feed.reference("0xa") or (0,))[0] == 600_000)
                price, at = _known(feed, "0xa")
                assert at > _known(feed, "0xb")[1]  # the receive time of the newest value
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
    assert len(points) == HISTORY and points[-1][0] == _known(feed, "0xa")[1]


def test_a_reference_source_that_redirects_to_another_port_is_refused_and_one_within_its_origin_is_followed() -> None:
    """The reference feed's handshake may answer 302: to the same host and port it is followed, to
    another local port (an internal service) it is refused with the reason and nothing is read there."""
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    async def scenario() -> None:
        internal_hits: list[str] = []

        async def internal(ws: ServerConnection) -> None:
            internal_hits.append(ws.request.path)
            await ws.send(json.dumps({"condition_id": "0xa", "price": "0.99"}))
            await ws.wait_closed()

        async def source(ws: ServerConnection) -> None:
            await ws.send(json.dumps({"condition_id": "0xa", "price": "0.4"}))
            await ws.wait_closed()

        def redirect_to(where: dict[str, str]):
            def process_request(_: ServerConnection, request: object) -> Response | None:
                target = where.get(getattr(request, "path", ""))
                if target is None:
                    return None
                return Response(302, "Found", Headers([("Location", target), ("Content-Length", "0")]))
            return process_request

        routes: dict[str, str] = {}
        async with serve(internal, "127.0.0.1", 0) as inner, \
                serve(source, "127.0.0.1", 0, process_request=redirect_to(routes)) as outer:
            inner_port = inner.sockets[0].getsockname()[1]
            port = outer.sockets[0].getsockname()[1]
            routes["/away"] = f"ws://127.0.0.1:{inner_port}/admin"
            routes["/moved"] = "/prices"
            away = ReferenceFeed(f"ws://127.0.0.1:{port}/away", backoff=Backoff(initial_s=0.05, floor_s=0.05))
            moved = ReferenceFeed(f"ws://127.0.0.1:{port}/moved", backoff=Backoff(initial_s=0.05, floor_s=0.05))
            await away.start()
            await moved.start()
            try:
                await eventually(lambda: "refused: redirected to another port" in (away.stats.last_error or ""))
                await eventually(lambda: moved.reference("0xa") is not None)
                assert _known(moved, "0xa")[0] == 400_000
                assert away.reference("0xa") is None and internal_hits == [] and away.stats.connects == 0
            finally:
                await away.close()
                await moved.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))
