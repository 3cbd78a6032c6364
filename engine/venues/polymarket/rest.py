"""Public REST reads for the feeds (CLOB `/books`, `/clob-markets`, Gamma `/markets`).

Async (aiohttp), rate-limited per endpoint family, retried with jittered backoff on
425/429/5xx, timeouts and connection errors, never on other 4xx. No credentials: these
endpoints are public.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Iterable
from typing import Any

import aiohttp

from engine.feeds.lazy_session import LazySession
from engine.feeds.pacing import Jitter, RateLimits, RetryPolicy
from engine.venues.polymarket.parse import BookSnapshot, book_snapshot

log = logging.getLogger("engine.feeds.rest")
BOOKS_PER_REQUEST = 500  # the venue's POST /books limit
RETRYABLE = frozenset({425, 429, 500, 502, 503, 504})


class HttpStatusError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class RestClient:
    def __init__(self, base_url: str, *, limits: RateLimits | None = None, retry: RetryPolicy | None = None,
                 jitter: Jitter = random.random, timeout_s: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.limits = limits or RateLimits()
        self.retry = retry or RetryPolicy()
        self.jitter = jitter
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        # trust_env: honour HTTPS_PROXY like the WebSocket and CLOB clients do.
        self._sessions = LazySession(lambda: aiohttp.ClientSession(timeout=self.timeout, trust_env=True))

    async def get_json(self, path: str, params: dict[str, Any] | None = None, family: str = "market") -> Any:
        return await self._request("GET", path, family, params=params)

    async def post_json(self, path: str, body: Any, family: str = "market") -> Any:
        return await self._request("POST", path, family, body=body)

    async def close(self) -> None:
        await self._sessions.close()

    async def _request(self, method: str, path: str, family: str, *, params: dict[str, Any] | None = None,
                       body: Any = None) -> Any:
        url = f"{self.base_url}{path}"
        for attempt in range(self.retry.attempts):
            await self.limits.acquire(family)
            try:
                return await self._once(method, url, params, body)
            except HttpStatusError as exc:
                if exc.status not in RETRYABLE or attempt + 1 >= self.retry.attempts:
                    raise
                reason = str(exc)
            except (aiohttp.ClientError, TimeoutError) as exc:
                if attempt + 1 >= self.retry.attempts:
                    raise
                reason = f"{type(exc).__name__}: {exc}"
            delay = self.retry.delay(attempt, self.jitter)
            log.info("retrying %s %s in %.2f s", method, path, delay, extra={"reason": reason})
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _once(self, method: str, url: str, params: dict[str, Any] | None, body: Any) -> Any:
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        headers = {"Content-Type": "application/json"} if data is not None else None
        async with self._sessions.get().request(method, url, params=params, data=data, headers=headers) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise HttpStatusError(resp.status, _error_message(text))
            return json.loads(text) if text else None


def _error_message(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300]
    if isinstance(data, dict) and "error" in data:
        return str(data["error"])
    return text[:300]


async def fetch_books(rest: RestClient, token_ids: Iterable[str]) -> list[BookSnapshot]:
    """Current books for `token_ids` (POST /books, 500 per request). Tokens the venue has no
    book for are absent from the result; callers drop them rather than keep stale state."""
    tokens = list(dict.fromkeys(token_ids))
    out: list[BookSnapshot] = []
    for start in range(0, len(tokens), BOOKS_PER_REQUEST):
        chunk = tokens[start:start + BOOKS_PER_REQUEST]
        try:
            raw = await rest.post_json("/books", [{"token_id": t} for t in chunk])
        except HttpStatusError as exc:
            if exc.status != 404:
                raise
            raw = await _books_one_by_one(rest, chunk)  # one unknown token fails the batch
        out.extend(book_snapshot(item) for item in raw or () if isinstance(item, dict))
    return out


async def _books_one_by_one(rest: RestClient, tokens: list[str]) -> list[dict[str, Any]]:
    found = []
    for token in tokens:
        try:
            found.append(await rest.get_json("/book", {"token_id": token}))
        except HttpStatusError as exc:
            if exc.status != 404:
                raise
    return found
