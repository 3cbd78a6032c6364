"""Polymarket's geographic restrictions, as its documentation states them ("Geographic Restrictions",
docs.polymarket.com/api-reference/geoblock):

- `GET /api/geoblock` (on polymarket.com, not the API servers) answers for the caller's address
  `{"blocked": bool, "ip": str, "country": ISO 3166-1 alpha-2, "region": str}`;
- restrictions fall into three groups (late 2026): **blocked outright** (OFAC-sanctioned places: no
  new order and no closing one, website and API), **close-only on the website and the API** (a
  position may be closed, none opened), **close-only on the website only** (the API is not
  restricted);
- an order the API refuses is answered `POST /order` (and `/orders`) HTTP 403 `{"error": "Trading
  restricted in your region, please refer to available regions - ..."}`, before the request's
  authentication is looked at: every order from a blocked place, a BUY (which opens a position) from
  a close-only one.

The docs' members of the two close-only groups were not readable here: every place the venue has
listed as restricted and is not sanctioned is close-only on the API too (the stricter reading);
`geoblock_website_only` names places the venue restricts on its website only (none by default).
`/api/geoblock` says `blocked: true` for all three groups (the website restricts each).

The simulator cannot know where its caller is, so it is told (`location`, settable as
`SIMULATOR_COUNTRY=US/NY`); by default it sees Ireland, where the venue takes orders.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .httputil import SIM_KEY, error

# Blocked outright (OFAC, as the docs list it, late 2026): countries and regions (ISO 3166-2).
BLOCKED = frozenset({"CU", "IR", "KP", "SY"})
BLOCKED_REGIONS = frozenset({"UA-43", "UA-14", "UA-09"})  # Crimea, Donetsk, Luhansk
# Close-only, on the API too: every other place the venue has listed (its early-2026 table: blocked or
# close-only then), Ontario beside them.
CLOSE_ONLY = frozenset({"AU", "BE", "BY", "BI", "CF", "CD", "DE", "ET", "FR", "GB", "IQ", "IT", "LB", "LY", "MM",
                        "NI", "NL", "PL", "RU", "SG", "SO", "SS", "SD", "TH", "TW", "UM", "US", "VE", "YE"})
CLOSE_ONLY_REGIONS = frozenset({"CA-ON"})
REFUSAL = ("Trading restricted in your region, please refer to available regions - "
           "https://docs.polymarket.com/developers/CLOB/geoblock")
ORDER_PATHS = frozenset({"/order", "/orders"})

routes = web.RouteTableDef()


def parse_where(raw: str) -> tuple[str, str]:
    """"US/NY" or "IE" as (country, region), upper case; ValueError for anything else."""
    country, _, region = raw.strip().upper().partition("/")
    if len(country) != 2 or not country.isalpha() or (region and not region.replace("-", "").isalnum()):
        raise ValueError(f"{raw!r}: a country code, optionally with a region, e.g. IE or US/NY")
    return country, region


def blocked(country: str, region: str) -> bool:
    return country in BLOCKED or f"{country}-{region}" in BLOCKED_REGIONS


def website_only(country: str, region: str, listed: str) -> bool:
    """Whether the place is among `listed` (comma-separated COUNTRY or COUNTRY-REGION codes)."""
    names = {name.strip().upper() for name in listed.split(",") if name.strip()}
    return country in names or f"{country}-{region}" in names


def tier(country: str, region: str, listed_website_only: str = "") -> str:
    """blocked, close_only, close_only_website or open."""
    if blocked(country, region):
        return "blocked"
    if website_only(country, region, listed_website_only):
        return "close_only_website"
    if country in CLOSE_ONLY or f"{country}-{region}" in CLOSE_ONLY_REGIONS:
        return "close_only"
    return "open"


def _tier(request: web.Request) -> tuple[str, str, str]:
    cfg = request.app[SIM_KEY].cfg
    country, region = parse_where(cfg.location)
    return country, region, tier(country, region, cfg.geoblock_website_only)


@routes.get("/api/geoblock")
async def geoblock(request: web.Request) -> web.Response:
    country, region, found = _tier(request)
    return web.json_response({"blocked": found != "open", "ip": request.remote or "127.0.0.1",
                              "country": country, "region": region})


def _opens(raw: bytes) -> bool:
    """Whether a posted order (or any of a batch) is a BUY: a new position, which close-only refuses."""
    try:
        body: Any = json.loads(raw or b"null")
    except ValueError:
        return False  # malformed: the route answers that
    items = body if isinstance(body, list) else [body]
    return any(isinstance(item, dict) and isinstance(item.get("order"), dict)
               and str(item["order"].get("side", "")).upper() in ("BUY", "0") for item in items)


def middleware() -> Any:
    """Refuse orders from a blocked region before anything else looks at them."""

    @web.middleware
    async def refuse_region(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method == "POST" and request.path in ORDER_PATHS:
            _, _, found = _tier(request)
            if found == "blocked" or (found == "close_only" and _opens(await request.read())):
                return error(403, REFUSAL)
        return await handler(request)

    return refuse_region
