"""py-clob-client-v2, adapted for an engine: its own HTTP connection pool and timeout,
raw signed posts, API credentials, and one classification of every failure.

The client's module-level httpx.Client has a fixed 5 s timeout and turns every network
error into the same "Request exception!", so a timeout (the order may exist) cannot be
told from a refused connection (it cannot). `AdapterClobClient` overrides the client's
three transport hooks (`_get`, `_post`, `_delete`) and keeps everything else of the
client: L1/L2 headers, HMAC, endpoints, pagination, parameter encoding.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from py_clob_client_v2 import ApiCreds, ClobClient
from py_clob_client_v2.exceptions import PolyApiException, PolyException

from contracts.geoblock import region_blocked
from contracts.settings import Settings
from engine.logs import register_secrets
from engine.ratelimit import MAX_HOLD_S
from engine.venues.base import OrderRejected, RegionBlocked, VenueBusy, VenueError, VenueUnavailable
from engine.venues.polymarket.limits import TIER_PATH

log = logging.getLogger("engine.venues.polymarket.venue")
MAINTENANCE_STATUS = 425  # Too Early: the matching engine is restarting
RATE_LIMITED_STATUS = 429
INVALID_HEARTBEAT = "Invalid Heartbeat ID"
_LAST = threading.local()  # the last response's headers, per worker thread
_RECORDING = threading.local()  # `signed` is running on this thread: record the request, send nothing
_BASE_HEADERS = {
    "User-Agent": "py_clob_client_v2",
    "Accept": "*/*",
    "Connection": "keep-alive",
    "Content-Type": "application/json",
}


class TransportError(PolyApiException):
    """No HTTP response. `maybe_sent`: the request may have reached the venue."""

    def __init__(self, message: str, *, timed_out: bool, maybe_sent: bool):
        super().__init__(error_msg=message)
        self.timed_out = timed_out
        self.maybe_sent = maybe_sent


class HttpFailure(PolyApiException):
    """A non-200 answer, keeping the venue's Retry-After (seconds) when it sent one."""

    def __init__(self, resp: httpx.Response):
        super().__init__(resp)
        self.retry_after_s = retry_after(resp.headers.get("Retry-After"))


def retry_after(raw: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Retry-After in seconds from now: delta-seconds, or an HTTP date (a past date is 0), at most
    MAX_HOLD_S (the venue's longest published window: a longer wait means nothing it publishes). None
    when absent or unreadable."""
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT; an obsolete form may come without a zone
            when = when.replace(tzinfo=UTC)
        value = max(0.0, math.ceil(when.timestamp() - now()))
    return min(value, MAX_HOLD_S) if 0 <= value <= math.inf else None  # (NaN compares false: None)


def take_response_headers() -> httpx.Headers | None:
    """The headers of the last answer this thread's client received (and forget them): how the
    caller reads the venue's Poly-RateLimit-* headers, which the client's API does not return."""
    headers = getattr(_LAST, "headers", None)
    _LAST.headers = None
    return headers


@dataclass(frozen=True)
class SignedRequest:
    """One request exactly as the client would send it: its headers carry the L2 signature."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None
    params: dict[str, Any] | None


class _Recorded(Exception):
    def __init__(self, request: SignedRequest):
        self.request = request


class AdapterClobClient(ClobClient):
    def __init__(self, host: str, chain_id: int, *, timeout_s: float = 5.0, **kwargs: Any):
        super().__init__(host, chain_id, **kwargs)
        self._http = httpx.Client(http2=host.startswith("https://"), timeout=httpx.Timeout(timeout_s))

    def _get(self, endpoint: str, headers: dict[str, str] | None = None,
             params: dict[str, Any] | None = None) -> Any:
        return self._request("GET", endpoint, headers, None, params)

    def _post(self, endpoint: str, headers: dict[str, str] | None = None, data: Any = None,
              params: dict[str, Any] | None = None) -> Any:
        return self._request("POST", endpoint, headers, data, params)

    def _delete(self, endpoint: str, headers: dict[str, str] | None = None, data: Any = None,
                params: dict[str, Any] | None = None) -> Any:
        return self._request("DELETE", endpoint, headers, data, params)

    def _resolve_transactions_hashes(self, response: Any) -> Any:
        """The answer as the venue gave it, never waited on. Since 2026-07 a matched order is
        answered with its `tradeIDs` and no settlement hashes, and the client's `post_order` /
        `post_orders` would then poll `/data/trades` every 0.25 s for up to 30 s, blocking the
        worker (and a kill queued behind it). The desk books a fill from the trade ids and the
        user channel; a hash is not needed to trade, so no call of this client waits for one."""
        return response

    def get_rate_limit_tier(self) -> Any:
        """`GET /v1/user/rate-limit-tier` (L2): the per-signer rate-limit tier the venue assigned to
        the signer of these credentials (py-clob-client-v2 1.2.1 has no method for it)."""
        headers = self._l2_headers("GET", TIER_PATH)
        return self._get(f"{self.host}{TIER_PATH}", headers=headers)

    def post_signed(self, path: str, body: str) -> Any:
        """POST these exact bytes (a prepared order or batch) with L2 headers over them."""
        headers = self._l2_headers("POST", path, body=None, serialized_body=body)
        return self._post(f"{self.host}{path}", headers=headers, data=body)

    def signed(self, method: Callable[..., Any], *args: Any) -> SignedRequest:
        """What one of the client's own methods would send (endpoint, body, L2 headers), unsent:
        for a sender on the event loop (engine/venues/polymarket/loop_http.py). The headers are
        stamped now, so a retry asks again. Only for requests with a text body or none."""
        _RECORDING.on = True
        try:
            method(*args)
        except _Recorded as recorded:
            return recorded.request
        finally:
            _RECORDING.on = False
        raise AssertionError(f"{method.__name__} sent no request")

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, url: str, headers: dict[str, str] | None, data: Any,
                 params: dict[str, Any] | None) -> Any:
        all_headers = {**(headers or {}), **_BASE_HEADERS}
        if method == "GET":
            all_headers["Accept-Encoding"] = "gzip"
        content = data.encode("utf-8") if isinstance(data, str) else None
        payload = None if isinstance(data, str) or data is None else data
        if getattr(_RECORDING, "on", False):
            if payload is not None:
                raise TypeError("a request with a JSON object body cannot be recorded: send it on a worker thread")
            raise _Recorded(SignedRequest(method, url, all_headers, content, params))
        try:
            resp = self._http.request(method, url, headers=all_headers, content=content, json=payload,
                                      params=params)
        except httpx.TimeoutException as exc:
            raise TransportError(f"timed out: {type(exc).__name__}", timed_out=True,
                                 maybe_sent=not isinstance(exc, httpx.ConnectTimeout)) from None
        except httpx.RequestError as exc:
            raise TransportError(f"network error: {type(exc).__name__}: {exc}", timed_out=False,
                                 maybe_sent=not isinstance(exc, httpx.ConnectError)) from None
        _LAST.headers = resp.headers
        if resp.status_code != 200:
            raise HttpFailure(resp)
        try:
            return resp.json()
        except ValueError:
            return resp.text


# -- failures ------------------------------------------------------------------------------


@dataclass
class CallFailure(Exception):
    """One failed call, classified. `status` None: no HTTP response at all.

    `busy`: the venue answered that it took nothing (425 maintenance, 429 rate limit), so the
    request certainly did not act; `retry_after_s` is its Retry-After when given."""

    status: int | None
    message: str
    retryable: bool
    maybe_sent: bool = True
    busy: bool = False
    retry_after_s: float | None = None
    # A refused heartbeat (400 "Invalid Heartbeat ID"): the id the venue expects next ("" = the
    # chain is gone, start a new one). None for every other failure.
    expected_heartbeat: str | None = None

    def __str__(self) -> str:
        return f"{self.status or 'no response'}: {self.message}"

    @property
    def duplicate(self) -> bool:
        return self.status == 400 and "duplicat" in self.message.lower()

    @property
    def maintenance(self) -> bool:
        return self.status == MAINTENANCE_STATUS

    def to_venue_error(self, *, order: bool = False) -> VenueError:
        """The protocol's error for this failure, carrying the venue's own message."""
        if self.busy:
            what = "the venue's matching engine is restarting" if self.maintenance else "rate-limited by the venue"
            return VenueBusy(f"{what} (HTTP {self.status}): {self.message}", maintenance=self.maintenance,
                             retry_after_s=self.retry_after_s)
        if self.retryable:
            return VenueUnavailable(self.message)
        if self.status == 400 and order:
            return OrderRejected(self.message)
        if region_blocked(self.status, self.message):  # a geoblock, not the keys (contracts/geoblock.py)
            return RegionBlocked(f"region blocked (HTTP 403): {self.message}")
        if self.status in (401, 403):
            return VenueError(f"authentication failed: {self.message}")
        return VenueError(self.message)


def classify(exc: BaseException) -> CallFailure:
    if isinstance(exc, TransportError):
        return CallFailure(None, str(exc.error_msg), retryable=True, maybe_sent=exc.maybe_sent)
    if isinstance(exc, PolyApiException):
        status = exc.status_code or 0
        wait = exc.retry_after_s if isinstance(exc, HttpFailure) else None
        if status in (MAINTENANCE_STATUS, RATE_LIMITED_STATUS):
            # Answered without acting. A restart lasts ~90 s: retrying it in place would only
            # hold the caller, so 425 goes straight back; a 429 is retried after its wait.
            return CallFailure(status, error_text(exc.error_msg), retryable=status == RATE_LIMITED_STATUS,
                               maybe_sent=False, busy=True, retry_after_s=wait)
        retryable = status >= 500
        return CallFailure(status, error_text(exc.error_msg), retryable=retryable, maybe_sent=retryable,
                           expected_heartbeat=heartbeat_expected(status, exc.error_msg))
    if isinstance(exc, PolyException):  # raised locally by the client before any request
        return CallFailure(0, str(exc.msg), retryable=False, maybe_sent=False)
    return CallFailure(0, f"{type(exc).__name__}: {exc}", retryable=False, maybe_sent=False)


def heartbeat_expected(status: int, body: Any) -> str | None:
    """The id a refused heartbeat's 400 names (`{"error_msg": "Invalid Heartbeat ID",
    "heartbeat_id": ...}`), or None when this is not such a refusal."""
    if status != 400 or not isinstance(body, dict) or body.get("error_msg") != INVALID_HEARTBEAT:
        return None
    expected = body.get("heartbeat_id")
    return expected if isinstance(expected, str) else None


def error_text(body: Any) -> str:
    """The venue's message from a `{"error": ...}` body (or whatever else it sent)."""
    if isinstance(body, dict):
        for key in ("error", "errorMsg", "error_msg", "message"):
            if body.get(key):
                value = body[key]
                return value if isinstance(value, str) else json.dumps(value)
        return json.dumps(body)
    return str(body)


# -- construction --------------------------------------------------------------------------


def build_client(settings: Settings, *, timeout_s: float) -> AdapterClobClient:
    """An L1 client for the configured wallet (API creds are attached by `ensure_creds`)."""
    if settings.private_key is None:
        raise VenueError("live trading needs a wallet key (POLY_KEYSTORE, unlocked at start, or POLY_PRIVATE_KEY)")
    return AdapterClobClient(
        settings.clob_host, settings.chain_id, timeout_s=timeout_s, key=settings.private_key.reveal(),
        signature_type=settings.signature_type, funder=settings.funder,
    )


def configured_creds(settings: Settings) -> ApiCreds | None:
    parts = (settings.api_key, settings.api_secret, settings.api_passphrase)
    if all(p is None for p in parts):
        return None
    if any(p is None for p in parts):
        raise VenueError("POLY_API_KEY, POLY_API_SECRET and POLY_API_PASSPHRASE go together: set all "
                         "three, or none to derive them from the private key")
    key, secret, passphrase = (p.reveal() for p in parts)  # type: ignore[union-attr]  # none is None: checked just above
    return ApiCreds(api_key=key, api_secret=secret, api_passphrase=passphrase)


def ensure_creds(client: AdapterClobClient, settings: Settings) -> ApiCreds:
    """Configured creds, or create-or-derive them from the key (L1). Never logged."""
    creds = configured_creds(settings) or client.create_or_derive_api_key()
    register_secrets(creds.api_key, creds.api_secret, creds.api_passphrase)
    client.set_api_creds(creds)
    return creds
