"""A feed the trader names (an http(s) URL, which may carry a vendor's key, or a file path), read
whole and bounded: at most `max_bytes`, a server that stalls cut off, no redirect followed. The
odds feed (odds_reference.py) and the poll feed (engine/outside/polls.py) read through it.

An error says what went wrong and which setting names the feed, never the URL (it may hold a key).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx


class FeedError(Exception):
    """The feed could not be read; the message says why, without the URL."""


async def read_bounded(location: str, *, setting: str, what: str, max_bytes: int, timeout_s: float,
                       accept: str = "application/json") -> bytes:
    """The feed's bytes from a URL or a file. `setting`: the name it is configured under (ODDS_FEED);
    `what`: the feed in words ("the odds feed")."""
    if not location.startswith(("http://", "https://")):
        path = Path(location)
        if not path.is_file():
            raise FeedError(f"{setting} names no readable file (or an http(s) URL)")
        if path.stat().st_size > max_bytes:
            raise FeedError(f"{what} (a file) is larger than {max_bytes:,} bytes")
        return await asyncio.to_thread(path.read_bytes)
    try:
        return await asyncio.wait_for(_download(location, what, max_bytes, timeout_s, accept), timeout_s * 2)
    except TimeoutError:
        raise FeedError(f"{what} did not arrive within {timeout_s * 2:g} s") from None
    except httpx.HTTPError as exc:
        raise FeedError(f"{type(exc).__name__} reading {what}") from None


async def _download(url: str, what: str, max_bytes: int, timeout_s: float, accept: str) -> bytes:
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), follow_redirects=False) as client, \
            client.stream("GET", url, headers={"Accept": accept}) as response:
        if response.status_code != 200:
            raise FeedError(f"{what} answered HTTP {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise FeedError(f"{what} is larger than {max_bytes:,} bytes")
        return bytes(body)
