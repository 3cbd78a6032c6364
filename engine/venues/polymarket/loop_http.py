"""Signed CLOB requests sent from the event loop: the decision path's cancels, and the heartbeats.

A cancel a decision makes is the desk's answer to a market move. Handed to a worker thread and
the client's synchronous httpx, it waits for the thread to wake and take the GIL from a busy
event loop, then pays httpx's own overhead: sent from the loop with aiohttp, a move's cancel
reaches the venue ~1 ms sooner at the median (bench/reaction.py; docs/development.md has the
runs). The heartbeats go the same way so that a connection stays warm for the next cancel.

The request is still the client's: `AdapterClobClient.signed` runs py-clob-client-v2's own method
(endpoint, body, L2 headers and HMAC) with its transport replaced by a recorder. This module only
sends the recorded bytes, and reads the answer as the threaded transport reads it (`HttpFailure`
for a non-200, `TransportError` when there was no answer), so `ClobCaller` classifies, paces and
retries both alike. It also says when a request has left (`written`, from aiohttp's signal for a
body chunk): the executor records a decision's cancel while it travels (engine/execution/cancels.py).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.request
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
import httpx

from engine.feeds.lazy_session import LazySession
from engine.venues.polymarket.client import HttpFailure, SignedRequest, TransportError


class LoopHttp:
    """An aiohttp session on the engine's event loop, opened at the first send."""

    def __init__(self, timeout_s: float):
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._sessions = LazySession(self._open)
        self._proxies: dict[tuple[str, str], str | None] = {}  # (scheme, host) -> its proxy from the environment

    async def send(self, request: SignedRequest,
                   written: asyncio.Future[None] | None = None) -> tuple[Any, Mapping[str, str]]:
        """The answer's JSON (or text) and headers (aiohttp's, case-insensitive as httpx's are: read
        as they came, not copied); raises HttpFailure or TransportError. `written` is set once the
        request's body is handed to the socket (left alone if it never is)."""
        try:
            session = self._sessions.get()
            async with session.request(request.method, request.url, headers=request.headers, data=request.content,
                                       params=request.params, proxy=self._proxy(request.url),
                                       trace_request_ctx=written) as resp:
                body = await resp.read()
                status, headers = resp.status, resp.headers
        except TimeoutError as exc:
            raise TransportError(f"timed out: {type(exc).__name__}", timed_out=True, maybe_sent=True) from None
        except aiohttp.ClientConnectorError as exc:  # no connection was made: nothing was sent
            raise TransportError(f"network error: {type(exc).__name__}: {exc}", timed_out=False,
                                 maybe_sent=False) from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"network error: {type(exc).__name__}: {exc}", timed_out=False,
                                 maybe_sent=True) from None
        if status != 200:
            failure = HttpFailure(httpx.Response(status, headers=headers, content=body))
            failure.response_headers = headers  # as the threaded lane carries them
            raise failure
        try:
            return json.loads(body), headers
        except ValueError:
            return body.decode("utf-8", "replace"), headers

    async def close(self) -> None:
        await self._sessions.close()

    def _open(self) -> aiohttp.ClientSession:
        # Not trust_env: it reads the proxy settings and ~/.netrc again for every request, and with
        # it a move's cancel reached the venue later than from a thread (bench/reaction.py);
        # `_proxy` reads them once per host. certifi's roots, as httpx uses them. Idle connections
        # are kept two minutes: the heartbeats, sent here too, keep one warm for the next cancel.
        tls = ssl.create_default_context(cafile=certifi.where())
        connector = aiohttp.TCPConnector(ssl=tls, keepalive_timeout=120)
        on_body = aiohttp.TraceConfig()
        on_body.on_request_chunk_sent.append(_body_written)
        return aiohttp.ClientSession(timeout=self.timeout, connector=connector, trace_configs=[on_body])

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for this URL's scheme and host (HTTPS_PROXY, NO_PROXY...),
        as the client's httpx honours it; read once per host."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            bypass = urllib.request.proxy_bypass(key[1]) if key[1] else True
            self._proxies[key] = None if bypass else urllib.request.getproxies().get(key[0])
        return self._proxies[key]


async def _body_written(_session: aiohttp.ClientSession, context: SimpleNamespace,
                        _params: aiohttp.TraceRequestChunkSentParams) -> None:
    """aiohttp's signal for a body chunk, given just before the chunk (and the headers buffered with
    it) is written to the socket in the same step of the writing task: whoever waits on the
    request's `written` future runs after the bytes are out."""
    written = context.trace_request_ctx
    if isinstance(written, asyncio.Future) and not written.done():
        written.set_result(None)
