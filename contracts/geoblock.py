"""A region block told apart from a credentials error.

Polymarket refuses orders from some countries and regions (docs.polymarket.com, "Geographic
Restrictions"): its CLOB answers HTTP 403 with `{"error": "Trading restricted in your region, please
refer to available regions - https://docs.polymarket.com/developers/CLOB/geoblock"}`, and its CDN may
answer 403 with a "you have been blocked" page; `GET https://polymarket.com/api/geoblock` says for the
caller's address `{"blocked", "ip", "country", "region"}`. Kalshi documents no wording for its region
refusal; a 403 whose body names a region, a country or a jurisdiction, or a CDN's country ban, is read
as one. Either way it is no reason to touch the API keys, which is what "authentication failed" would
have the operator do.
"""

from __future__ import annotations

from typing import Any

# Fragments of a 403's body that say "your region", lower case, most specific first.
REGION_WORDS = (
    "restricted in your region",
    "clob/geoblock",
    "geoblock",
    "banned the country or region",  # a CDN's country ban (Cloudflare's error 1009 page)
    "not available in your region",
    "not available in your country",
    "jurisdiction",
    "you have been blocked",  # a CDN's block page (the venue's WAF in front of POST /order)
)
REGION_FIX = ("the venue refuses orders from this server's country or region (a geoblock; the keys are not the "
              "problem, leave them as they are): run the desk from a region the venue permits (docs/going-live.md, "
              "'Where the desk may trade'), or keep to paper trading here")


def region_blocked(status: int | None, body: Any) -> bool:
    """Whether an answer is the venue refusing this server's region."""
    if status != 403:
        return False
    text = str(body).lower()
    return any(word in text for word in REGION_WORDS)


def region_answer(payload: Any) -> tuple[bool, str] | None:
    """Polymarket's /api/geoblock answer as (blocked, where: "US/NY from 203.0.113.42"); None when it
    is not that answer (a field missing or of the wrong type)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("blocked"), bool):
        return None
    country, region, ip = (payload.get(k) for k in ("country", "region", "ip"))
    if not all(isinstance(v, str) for v in (country, region, ip)):
        return None
    place = f"{country}/{region}" if region else str(country)
    return payload["blocked"], f"{place} (this server's address {ip})"
