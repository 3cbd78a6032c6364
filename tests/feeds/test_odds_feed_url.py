"""The odds feed read from a URL (ODDS_FEED=http://…), as from a file: the whole body when it
answers 200, and otherwise an OddsFeedError in words — an HTTP error, a redirect (never followed),
a body past the size bound, a server that sends its headers and then stalls. A failed read keeps
the last good events (they age out), which `OddsReference.poll_once` says by returning False."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from engine.feeds.odds_reference import OddsFeedError, OddsReference, read_feed

FEED = (Path(__file__).resolve().parents[1] / "fixtures" / "odds" / "final.json").read_bytes()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _ok(_: web.Request) -> web.Response:
    return web.Response(body=FEED, content_type="application/json")


async def _broken(_: web.Request) -> web.Response:
    return web.Response(status=503, text="down for maintenance")


async def _moved(_: web.Request) -> web.Response:
    raise web.HTTPFound("http://127.0.0.1:9/elsewhere.json")


async def _huge(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    for _ in range(64):  # 64 KiB, past the test's 16 KiB bound, with no Content-Length to trust
        await response.write(b" " * 1024)
    return response


async def _stalled(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    await response.write(b'{"events": [')
    await asyncio.sleep(3600)  # cancelled when the server closes
    return response


async def _serving(handler: Handler, body: Callable[[str], Awaitable[None]]) -> None:
    """Run `body` with the URL of a local server answering `handler`, then close the server."""
    app = web.Application()
    app.router.add_get("/odds.json", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        await body(f"http://127.0.0.1:{runner.addresses[0][1]}/odds.json")
    finally:
        await runner.cleanup()


def test_the_feed_is_read_whole_from_a_url() -> None:
    async def body(url: str) -> None:
        assert await read_feed(url) == FEED

    asyncio.run(_serving(_ok, body))


@pytest.mark.parametrize(("handler", "said"), [
    (_broken, "the odds feed answered HTTP 503"),
    (_moved, "the odds feed answered HTTP 302"),
    (_huge, "the odds feed is larger than 16,384 bytes"),
])
def test_a_url_that_does_not_answer_the_feed_is_refused_in_words(handler: Handler, said: str) -> None:
    async def body(url: str) -> None:
        with pytest.raises(OddsFeedError) as refused:
            await read_feed(url, max_bytes=16_384)
        assert str(refused.value) == said

    asyncio.run(_serving(handler, body))


def test_a_stalled_server_is_given_up_on_within_the_bound() -> None:
    async def body(url: str) -> None:
        with pytest.raises(OddsFeedError, match="reading the odds feed|did not arrive within"):
            await asyncio.wait_for(read_feed(url, timeout_s=0.5), 30)  # the outer bound only guards the test

    asyncio.run(_serving(_stalled, body))


def test_a_failed_poll_keeps_the_last_good_events() -> None:
    async def body(good: str) -> None:
        odds = OddsReference(good, {})
        assert await odds.poll_once() and odds.events
        read = dict(odds.events)
        odds.location = good.replace("/odds.json", "/gone.json")  # the same server answers 404 there
        assert not await odds.poll_once()
        assert odds.events == read and odds.failures == 1 and odds.last_error == "the odds feed answered HTTP 404"

    asyncio.run(_serving(_ok, body))
