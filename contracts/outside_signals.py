"""A fair value posted from outside the desk (a model over HTTP, the CLI, an assistant through
MCP), checked field by field before anything is stored. Everything from outside is hostile until
checked: a post is refused, with a code and a sentence, when a field is missing, unknown, of the
wrong kind or out of range, when the fair value is not strictly inside (0, 1), when it is stale
(its source made it more than MAX_AGE_MS ago) or from the future (more than MAX_SKEW_MS ahead of
the desk's clock), when it expires in the past or further ahead than MAX_TTL_MS, or when its source
name is one the desk keeps for itself. A replay (the same source and nonce again) and an unknown
market are refused where the post is stored (storage/desk/signal_intake.py).

Pure: the HTTP process, the CLI and the MCP server all check through `parse_post`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from contracts.domain import ONE, BadNumber, NotFinite, OutOfRange, read_decimal, to_micros

MAX_AGE_MS = 60_000  # a post older than this when it arrives is stale (a replay, or a stuck sender)
MAX_SKEW_MS = 5_000  # a post from further ahead than this: the sender's clock is wrong
MAX_TTL_MS = 7 * 86_400_000  # a fair value holds for at most a week; post it again to extend it
MAX_DETAIL = 300
MAX_MARKET = 130
SOURCE = re.compile(r"[a-z][a-z0-9_.-]{0,39}")
NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Names the desk's own writers use (the operator's values, the reference prices, the odds feed);
# news signals are `news:<name>`, which the pattern above cannot spell.
RESERVED_SOURCES = frozenset({"operator", "reference", "odds", "news", "desk"})
FIELDS = frozenset({"market", "source", "fair_value", "confidence", "posted_at", "nonce", "expires_at", "ttl_s",
                    "detail"})


class Refusal(StrEnum):
    BAD_REQUEST = "BAD_REQUEST"  # not a JSON object, a field missing, unknown or malformed
    OUT_OF_RANGE = "OUT_OF_RANGE"  # a fair value not inside (0, 1), a confidence outside [0, 1], an expiry
    STALE = "STALE"  # made too long ago, or older than the source's last post for the market
    FUTURE = "FUTURE"  # made ahead of the desk's clock
    REPLAYED = "REPLAYED"  # this source's nonce was seen before
    RESERVED_SOURCE = "RESERVED_SOURCE"
    UNKNOWN_MARKET = "UNKNOWN_MARKET"
    MARKET_CLOSED = "MARKET_CLOSED"  # closed or resolved: its calibration must not be gamed after the fact
    UNAUTHORIZED = "UNAUTHORIZED"  # no token, or a wrong one (HTTP)
    RATE_LIMITED = "RATE_LIMITED"  # more posts than the interface takes (HTTP)
    TOO_LARGE = "TOO_LARGE"  # a body past the interface's bound (HTTP)
    STALLED = "STALLED"  # a sender that stopped mid-body (HTTP)
    TOOL_OFF = "TOOL_OFF"  # an MCP tool the operator has not enabled


class PostRefused(ValueError):
    """Why a post was not taken: nothing of it was stored."""

    def __init__(self, code: Refusal, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_json(self) -> dict[str, str]:
        return {"refused": self.code.value, "reason": self.message}


@dataclass(frozen=True, slots=True)
class SignalPost:
    """A checked post: probabilities in micros, times in epoch ms."""

    market: str
    source: str
    fair_value: int
    confidence: int | None
    posted_at: int
    expires_at: int
    nonce: str
    detail: str | None


def parse_post(raw: object, now: int) -> SignalPost:
    """The post as the desk stores it, or PostRefused saying what is wrong with it."""
    if not isinstance(raw, Mapping):
        raise PostRefused(Refusal.BAD_REQUEST, "a post is a JSON object")
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    if unknown:
        raise PostRefused(Refusal.BAD_REQUEST, f"unknown field(s): {', '.join(unknown)[:200]} "
                                               f"(known: {', '.join(sorted(FIELDS))})")
    source = _text(raw, "source", SOURCE, "a lowercase name of up to 40 letters, digits, '_', '.', '-', e.g. 'mymodel'")
    if source in RESERVED_SOURCES:
        raise PostRefused(Refusal.RESERVED_SOURCE, f"source {source!r} is the desk's own: choose another name")
    market = raw.get("market")
    if not isinstance(market, str) or not 0 < len(market) <= MAX_MARKET or not market.isprintable():
        raise PostRefused(Refusal.BAD_REQUEST, "market: the market's condition id (e.g. 0x…), as the Markets page "
                                               "shows it")
    fair = _probability(raw, "fair_value", required=True)
    assert fair is not None
    if not 0 < fair < ONE:
        raise PostRefused(Refusal.OUT_OF_RANGE, "fair_value must be strictly between 0 and 1 (a certainty is not a "
                                                "fair value to trade toward)")
    confidence = _probability(raw, "confidence", required=False)
    if confidence is not None and not 0 <= confidence <= ONE:
        raise PostRefused(Refusal.OUT_OF_RANGE, "confidence must be between 0 and 1")
    posted_at = _integer(raw, "posted_at", "when the source made the post, epoch milliseconds UTC")
    if posted_at < now - MAX_AGE_MS:
        raise PostRefused(Refusal.STALE, f"posted {(now - posted_at) // 1000} s ago: a post older than "
                                         f"{MAX_AGE_MS // 1000} s is stale (or replayed)")
    if posted_at > now + MAX_SKEW_MS:
        raise PostRefused(Refusal.FUTURE, f"posted {(posted_at - now) // 1000} s in the future: check the sender's "
                                          "clock")
    nonce = _text(raw, "nonce", NONCE, "8 to 64 letters, digits, '_' or '-', never used before by this source")
    expires_at = _expiry(raw, now)
    detail = raw.get("detail")
    if detail is not None and (not isinstance(detail, str) or len(detail) > MAX_DETAIL):
        raise PostRefused(Refusal.BAD_REQUEST, f"detail: a text of at most {MAX_DETAIL} characters")
    return SignalPost(market, source, fair, confidence, posted_at, expires_at, nonce, detail or None)


def _text(raw: Mapping[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise PostRefused(Refusal.BAD_REQUEST, f"{key}: {what}")
    return value


def _integer(raw: Mapping[str, Any], key: str, what: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PostRefused(Refusal.BAD_REQUEST, f"{key}: {what} (an integer)")
    return value


def _probability(raw: Mapping[str, Any], key: str, *, required: bool) -> int | None:
    """A number (or a decimal string) in micros, at most 6 decimals; None when absent and optional."""
    value = raw.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PostRefused(Refusal.BAD_REQUEST, f"{key}: a probability, e.g. 0.62")
    try:  # "1e999999", "1e-999999", a thousand digits: refused by name, never a decimal.Overflow
        number = read_decimal(value)
    except OutOfRange as exc:
        if exc.large:
            raise PostRefused(Refusal.OUT_OF_RANGE, f"{key} must be between 0 and 1 ({exc})") from None
        raise PostRefused(Refusal.BAD_REQUEST, f"{key}: at most 6 decimal places ({exc})") from None
    except NotFinite:
        raise PostRefused(Refusal.OUT_OF_RANGE, f"{key} must be a finite number") from None
    except BadNumber as exc:
        raise PostRefused(Refusal.BAD_REQUEST, f"{key}: a probability, e.g. 0.62 ({exc})") from None
    try:
        return to_micros(number, exact=True)
    except BadNumber:
        raise PostRefused(Refusal.BAD_REQUEST, f"{key}: at most 6 decimal places") from None


def _expiry(raw: Mapping[str, Any], now: int) -> int:
    """`expires_at` (epoch ms) or `ttl_s` (seconds from now), exactly one."""
    if ("expires_at" in raw) == ("ttl_s" in raw):
        raise PostRefused(Refusal.BAD_REQUEST, "give exactly one of expires_at (epoch ms) and ttl_s (seconds)")
    if "ttl_s" in raw:
        ttl = _integer(raw, "ttl_s", "how long the fair value holds, in seconds")
        expires = now + ttl * 1000
    else:
        expires = _integer(raw, "expires_at", "when the fair value stops holding, epoch milliseconds UTC")
    if expires <= now:
        raise PostRefused(Refusal.OUT_OF_RANGE, "the fair value would have expired already")
    if expires > now + MAX_TTL_MS:
        raise PostRefused(Refusal.OUT_OF_RANGE, f"a fair value holds for at most {MAX_TTL_MS // 86_400_000} days")
    return expires
