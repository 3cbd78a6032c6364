"""The desk's HTTP transport to Kalshi's Trade API: requests signed as Kalshi's API Keys page says
(RSA-PSS with SHA-256, MGF1, salt the digest's length, over timestamp_ms + METHOD + path from
`/trade-api/...` without the host or the query), every request bounded by a timeout, paced by the
account's token buckets, a 429 answered with exponential backoff, and Kalshi's error bodies read
into exceptions that say what the refusal was.

Kalshi's error bodies (Order Errors page): `{"error": {"code", "message", "details"}}`, or the same
fields at the top level for a body it could not parse, or `{"error": "too many requests"}` on a 429
(which carries no Retry-After). The pacing mirrors Kalshi's buckets locally (Rate Limits and Tiers:
a request costs 10 tokens unless listed otherwise, a V2 cancel and an order lookup 2), so the desk
waits for its own tokens rather than being refused; the budgets are the account's own, read from
`/account/limits` once the client is signed (a Basic account's until then).
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.geoblock import region_blocked
from contracts.jsonsafe import JsonBeyondBounds, JsonRefused, loads_bounded
from engine.ratelimit import TokenBucket, bounded
from engine.venues.kalshi.fixed import items

TIMEOUT_S = 10.0
DEFAULT_COST = 10
BASIC = ((200, 400), (100, 100))  # (read, write) of a Basic account: (tokens a second, capacity)
# The most a tier's bucket refills a second (Prime's 4,000, read and write: Rate Limits and Tiers); a bucket
# holds one to two seconds of it (the write bucket two, one on Basic; the read bucket's is not stated).
MOST_PER_S = 4_000
BACKOFF_S = (0.05, 0.1, 0.2, 0.4, 0.8)  # waits after successive 429s before giving up
MARGIN = 0.9  # of Kalshi's refill rate the desk spends
BURST_SHARE = 0.5  # of Kalshi's bucket capacity spent at once: what is left covers a burst that arrives late
# An answer is read within these bounds (a page of 1,000 markets with their rules is a few MB and
# nested 5 deep): one past them, nested 100,000 deep say, is an answer the desk cannot read, never
# a RecursionError out of the client.
ANSWER_BYTES = 64 * 1024 * 1024
ANSWER_DEPTH = 32


class KalshiError(Exception):
    """A request to Kalshi that did not succeed (the subclasses say how)."""

    def __init__(self, message: str, *, status: int = 0, code: str = "", details: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.details = status, code, details


class KalshiRefused(KalshiError):
    """Kalshi answered 4xx: it refused this request and did nothing with it (`code` says why)."""


class KalshiAuthFailed(KalshiRefused):
    """401 or 403: the key, its signature, the clock, or the key's scopes."""


class KalshiRegionBlocked(KalshiRefused):
    """403 naming a region, a country or a jurisdiction (contracts/geoblock.py): Kalshi, or the CDN in
    front of it, refuses this server's location. Not a KalshiAuthFailed: the key is not the problem."""


class KalshiRetired(KalshiRefused):
    """410: an endpoint Kalshi retired (the desk calls none; this names one if it ever did)."""


class KalshiBusy(KalshiError):
    """429 after the backoff: the account's token budget is spent; nothing was done."""


class KalshiUnavailable(KalshiError):
    """5xx, a timeout or the network: whether a write took effect is unknown."""


class KalshiSigner:
    """Kalshi's request signature, with the account's RSA private key (PEM)."""

    def __init__(self, key_id: str, private_pem: str) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("Kalshi signs with an RSA key")
        self.key_id = key_id
        self._key = key

    def headers(self, method: str, path: str, now_ms: int | None = None) -> dict[str, str]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        stamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
        signature = self._key.sign(f"{stamp}{method.upper()}{path}".encode(),
                                   padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                               salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256())
        return {"KALSHI-ACCESS-KEY": self.key_id, "KALSHI-ACCESS-TIMESTAMP": stamp,
                "KALSHI-ACCESS-SIGNATURE": base64.b64encode(signature).decode()}


@dataclass
class Pacer:
    """The account's read and write buckets, each a bucket of the desk's one rate limiter
    (engine/ratelimit.py): a request takes its tokens as it goes and waits as long as they take to
    come back."""

    read: TokenBucket
    write: TokenBucket

    @classmethod
    def of(cls, read: tuple[int, int], write: tuple[int, int]) -> Pacer:
        """Buckets refilling a little slower than Kalshi's (MARGIN), bursting half as far (BURST_SHARE).
        Kalshi counts a request when it arrives: requests that left paced can arrive bunched (a burst
        held up on the way, then the next ones on time), and Kalshi's bucket, full while it waited,
        refilled nothing; what the desk leaves unspent of it covers that."""
        return cls(TokenBucket(read[0] * MARGIN, int(read[1] * BURST_SHARE)),
                   TokenBucket(write[0] * MARGIN, int(write[1] * BURST_SHARE)))

    @classmethod
    def meant(cls, read: tuple[int, int], write: tuple[int, int]) -> tuple[Pacer, str]:
        """Buckets for what `/account/limits` answered, each figure within what Kalshi's tiers can mean
        (a refill from Basic's to Prime's, a capacity of one to two seconds of it): a figure outside is
        read as the nearest one in, and the second value says so ("" when every figure was in)."""
        said: list[str] = []

        def within(name: str, given: tuple[int, int], least: int) -> tuple[int, int]:
            rate = int(bounded(given[0], least, MOST_PER_S))
            capacity = int(bounded(given[1], rate, 2 * rate))
            if (rate, capacity) != given:
                said.append(f"{name} {given[0]}/s, capacity {given[1]} read as {rate}/s, capacity {capacity}")
            return rate, capacity

        pacer = cls.of(within("read", read, BASIC[0][0]), within("write", write, BASIC[1][0]))
        return pacer, "; ".join(said)

    async def pace(self, write: bool, cost: int) -> None:
        wait = (self.write if write else self.read).owe(cost)
        if wait > 0:
            await asyncio.sleep(wait)


def error_of(status: int, raw: bytes) -> KalshiError:
    """Kalshi's answer as the exception that says what it was. A body past the reader's bounds (nested
    100,000 deep) is an answer the desk cannot read: what Kalshi did is unknown, as after a 5xx (a
    refusal read from it could be a duplicate create's, the order resting). A body that is not JSON
    (a proxy's page) still says what its status says."""
    try:
        body = loads_bounded(raw or b"{}", max_bytes=ANSWER_BYTES, max_depth=ANSWER_DEPTH, what="the body")
    except JsonBeyondBounds as exc:
        if status != 429:  # a 429 did nothing, whatever its body
            return KalshiUnavailable(f"Kalshi answered {status} with {exc}: what it did is unknown"[:500],
                                     status=status)
        body = {}
    except JsonRefused:
        body = {}
    nested = body.get("error") if isinstance(body, dict) else None
    fields: Mapping[str, Any] = nested if isinstance(nested, dict) else body if isinstance(body, dict) else {}
    code = str(fields.get("code") or "")
    message = str(fields.get("message") or (nested if isinstance(nested, str) else "") or f"HTTP {status}")
    details = str(fields.get("details") or "")
    said = f"Kalshi {status} {code}: {message}" + (f" ({details})" if details else "")
    kind: type[KalshiError]
    if status == 429:
        kind = KalshiBusy
    elif region_blocked(status, raw.decode("utf-8", "replace")):  # before the key: a geoblock is not it
        kind = KalshiRegionBlocked
    elif status in (401, 403):
        kind = KalshiAuthFailed
    elif status == 410:
        kind = KalshiRetired
    elif 400 <= status < 500:
        kind = KalshiRefused
    else:
        kind = KalshiUnavailable
    return kind(said[:500], status=status, code=code, details=details)


class KalshiHttp:
    """Signed, paced, bounded requests to the Trade API at `host` (`https://…/trade-api/v2`)."""

    def __init__(self, host: str, signer: KalshiSigner | None = None, *, timeout_s: float = TIMEOUT_S,
                 pacer: Pacer | None = None, backoff_s: tuple[float, ...] = BACKOFF_S) -> None:
        self.host = host.rstrip("/")
        self.root = urlsplit(self.host).path.rstrip("/")  # "/trade-api/v2": what a signature's path starts with
        self.signer = signer
        self.timeout_s = timeout_s
        self.pacer = pacer or Pacer.of(*BASIC)
        self.backoff_s = backoff_s
        self.busy = 0  # 429s answered (each waited out)
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:  # one client per event loop (the CLI runs several)
            self._client = httpx.AsyncClient(timeout=self.timeout_s)
            self._loop = loop
        return self._client

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      body: Mapping[str, Any] | None = None, auth: bool = False, write: bool = False,
                      cost: int = DEFAULT_COST) -> Any:
        """The answer's JSON; a KalshiError when it was not a success."""
        if auth and self.signer is None:
            raise KalshiAuthFailed("Kalshi: this request needs the account's key (KALSHI_API_KEY_ID, "
                                   "KALSHI_PRIVATE_KEY)", status=401)
        query = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in range(len(self.backoff_s) + 1):
            await self.pacer.pace(write, cost)
            headers = {"Content-Type": "application/json"} if body is not None else {}
            if self.signer is not None:
                headers.update(self.signer.headers(method, self.root + path))
            try:
                answer = await self._http().request(method, self.host + path, params=query, headers=headers,
                                                    content=json.dumps(body) if body is not None else None)
            except httpx.TimeoutException as exc:
                raise KalshiUnavailable(f"Kalshi: no answer within {self.timeout_s:g} s ({type(exc).__name__})"
                                        ) from None
            except httpx.HTTPError as exc:
                raise KalshiUnavailable(f"Kalshi could not be reached: {type(exc).__name__}: {exc}"[:300]) from None
            if answer.status_code == 429 and attempt < len(self.backoff_s):
                self.busy += 1
                await asyncio.sleep(self.backoff_s[attempt] * (1 + random.random() / 2))
                continue
            if answer.status_code >= 300:
                raise error_of(answer.status_code, answer.content)
            if answer.status_code == 204:  # done, with no body (Cancel All Orders)
                return {}
            try:
                return loads_bounded(answer.content, max_bytes=ANSWER_BYTES, max_depth=ANSWER_DEPTH,
                                     what="the body")
            except JsonRefused as exc:  # unreadable: whether a write took effect is unknown, as after a 5xx
                raise KalshiUnavailable(f"Kalshi answered {answer.status_code} with {exc}"[:300]) from None
        raise AssertionError("unreachable")  # the last attempt returns or raises

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                await client.aclose()
            except RuntimeError:  # its event loop is gone (the CLI ran it with asyncio.run)
                pass


async def pages(http: KalshiHttp, path: str, field: str, params: Mapping[str, Any], *, auth: bool = False,
                max_pages: int = 50) -> AsyncIterator[list[Any]]:
    """A listing's pages (its `field`), cursor after cursor, at most `max_pages` (a cursor that never ends is
    Kalshi's fault, not a loop)."""
    cursor = None
    for _ in range(max_pages):
        answer = await http.request("GET", path, params={**params, "cursor": cursor}, auth=auth)
        yield items(answer, field, path)
        cursor = answer.get("cursor") if isinstance(answer, dict) else None
        if not cursor:
            return
