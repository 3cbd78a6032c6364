"""One feed over HTTP: bounded in size and time, conditional on what was fetched before.

A feed is someone else's server: it may be slow, huge, or answer with anything. The download
stops at MAX_BYTES (the feed is refused, not truncated: half a document parses into nonsense),
each request has a time limit, and an unchanged feed (ETag / Last-Modified) costs one empty
answer. Redirects are followed by hand, at most MAX_REDIRECTS, and only where
engine/feeds/origin.py allows: on the configured origin, never into a private network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from engine.feeds.origin import OriginRefused, check_redirect

MAX_BYTES = 2 * 1024 * 1024
TIMEOUT_S = 10.0
MAX_REDIRECTS = 5
TOTAL_S = 30.0  # a server dripping a byte at a time is cut off here, whatever each read's limit
USER_AGENT = "polymarket-desk-news/1 (+RSS/Atom)"


class FetchError(Exception):
    """The feed could not be fetched; the message says why, in words."""


@dataclass(frozen=True)
class Fetched:
    body: bytes | None  # None: not modified since the last fetch
    etag: str | None = None
    modified: str | None = None


def fetch(client: httpx.Client, url: str, *, etag: str | None = None, modified: str | None = None,
          max_bytes: int | None = None, total_s: float | None = None) -> Fetched:
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    total_s = TOTAL_S if total_s is None else total_s
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, application/xml, "
                                                  "text/xml;q=0.9, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    deadline = time.monotonic() + total_s
    target = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            with client.stream("GET", target, headers=headers) as response:
                if response.has_redirect_location:
                    target = _next_hop(url, target, response)
                    continue
                return _read(response, etag, modified, max_bytes, total_s, deadline)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException:
        raise FetchError(f"no answer within {client.timeout.read or TIMEOUT_S:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {str(exc)[:200]}") from None


def _next_hop(configured: str, current: str, response: httpx.Response) -> str:
    location = response.headers.get("Location", "")
    target = str(httpx.URL(current).join(location))
    try:
        check_redirect(configured, target)
    except OriginRefused as exc:
        raise FetchError(f"refused: {exc}") from None
    return target


def _read(response: httpx.Response, etag: str | None, modified: str | None, max_bytes: int, total_s: float,
          deadline: float) -> Fetched:
    if response.status_code == 304:
        return Fetched(None, etag, modified)
    if response.status_code != 200:
        raise FetchError(f"HTTP {response.status_code}")
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"the feed is larger than {max_bytes:,} bytes ({int(declared):,}); at most that is read")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if time.monotonic() > deadline:
            raise FetchError(f"the feed took longer than {total_s:g} s to arrive")
        if len(body) > max_bytes:
            raise FetchError(f"the feed is larger than {max_bytes:,} bytes; at most that is read")
    return Fetched(bytes(body), response.headers.get("ETag"), response.headers.get("Last-Modified"))


def new_client(timeout_s: float = TIMEOUT_S) -> httpx.Client:
    """Redirects are not followed by the client: fetch() follows them itself, where the feed's
    origin allows (feeds move, but not into our network). No cookies kept between feeds."""
    return httpx.Client(timeout=httpx.Timeout(timeout_s), follow_redirects=False)
