"""A region block told apart from a credentials error, and Polymarket's three kinds of region block
told apart from each other.

Polymarket refuses orders from some countries and regions (docs.polymarket.com, "Geographic
Restrictions"): its CLOB answers HTTP 403 with `{"error": "Trading restricted in your region, please
refer to available regions - https://docs.polymarket.com/developers/CLOB/geoblock"}`, and its CDN may
answer 403 with a "you have been blocked" page; `GET https://polymarket.com/api/geoblock` says for the
caller's address `{"blocked", "ip", "country", "region"}`. Kalshi documents no wording for its region
refusal; a 403 whose body names a region, a country or a jurisdiction, or a CDN's country ban, is read
as one. Either way it is no reason to touch the API keys, which is what "authentication failed" would
have the operator do.

Polymarket's restrictions fall into three groups (docs.polymarket.com, "Geographic Restrictions",
late 2026): **blocked outright** (OFAC-sanctioned: no new order and no closing one either, on the
website and the API), **close-only** on the website and the API (positions may be closed, none
opened), and **close-only on the website only** (the API itself is not restricted). `/api/geoblock`
answers one `blocked` flag for all three, so the tier is read from where it says the server is:
the first group as the docs list it; every other place the venue has listed as restricted counts as
close-only on the API too (the stricter of the two groups it may now be in: the docs' members of
each were not readable here), and a restricted place the desk does not know as blocked outright. A
test order the API takes from a place read as restricted (the preflight's) shows the API open: the
website-only group (`confirmed_by_order`).
"""

from __future__ import annotations

from typing import Any, Literal

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


Tier = Literal["open", "blocked", "close_only", "close_only_website"]
# Blocked outright, on the website and the API: the OFAC-sanctioned places (ISO 3166-1, ISO 3166-2).
BLOCK_COMPLETELY = frozenset({"IR", "SY", "CU", "KP", "UA-43", "UA-14", "UA-09"})
# Every other place the venue has listed as restricted (its table of early 2026, Ontario beside it):
# close-only, the API included, until the venue lists one as restricted on its website only.
CLOSE_ONLY = frozenset({"AU", "BE", "BY", "BI", "CF", "CD", "DE", "ET", "FR", "GB", "IQ", "IT", "LB", "LY", "MM",
                        "NI", "NL", "PL", "RU", "SG", "SO", "SS", "SD", "TH", "TW", "UM", "US", "VE", "YE", "CA-ON"})
TIER_WORDS: dict[Tier, str] = {
    "open": "takes orders from {where}",
    "blocked": "refuses every order from {where}, closing ones too: blocked outright",
    "close_only": "takes only orders that close positions from {where}, on its website and its API alike "
                  "(close-only): the desk could sell what it holds there, never buy",
    "close_only_website": "is close-only on its website for {where}, but its API takes orders",
}
CLOSE_ONLY_FIX = ("the venue takes only orders that close positions from this server's region, its API included "
                  "(close-only): run the desk from a region the venue permits (docs/going-live.md, 'Where the "
                  "desk may trade'), or keep to paper trading here")


def place_tier(country: str, region: str, blocked: bool) -> Tier:
    """Which of the venue's groups a place is in, as far as the docs and the venue's flag tell."""
    places = {country.upper(), f"{country}-{region}".upper()} if region else {country.upper()}
    if places & BLOCK_COMPLETELY:
        return "blocked"
    if places & CLOSE_ONLY:
        return "close_only"
    return "blocked" if blocked else "open"


def confirmed_by_order(tier: Tier, order_taken: bool, order_refused_for_region: bool) -> Tier:
    """The tier once a test order (an opening BUY) met the API: taken from a place read as restricted,
    the API is open (the website-only group); refused as a region from one read as open, it is not."""
    if order_taken and tier in ("blocked", "close_only"):
        return "close_only_website"
    if order_refused_for_region and tier in ("open", "close_only_website"):
        return "close_only"
    return tier


def region_blocked(status: int | None, body: Any) -> bool:
    """Whether an answer is the venue refusing this server's region."""
    if status != 403:
        return False
    text = str(body).lower()
    return any(word in text for word in REGION_WORDS)


def region_tier(payload: Any) -> tuple[Tier, str] | None:
    """Polymarket's /api/geoblock answer as (tier, where); None when it is not that answer."""
    read = region_answer(payload)
    if read is None:
        return None
    return place_tier(payload["country"], payload["region"], read[0]), read[1]


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
