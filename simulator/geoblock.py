"""Polymarket's geographic restrictions, as its documentation states them ("Geographic Restrictions",
docs.polymarket.com/api-reference/geoblock):

- `GET /api/geoblock` (on polymarket.com, not the API servers) answers for the caller's address
  `{"blocked": bool, "ip": str, "country": ISO 3166-1 alpha-2, "region": str}`;
- orders from a blocked country are refused: the CLOB answers `POST /order` (and `/orders`) with
  HTTP 403 `{"error": "Trading restricted in your region, please refer to available regions - ..."}`,
  before it looks at the request's authentication;
- a close-only country may close positions but not open new ones: a BUY is refused the same way.

The simulator cannot know where its caller is, so it is told (`location`, settable as
`SIMULATOR_COUNTRY=US/NY`); by default it sees Ireland, where the venue takes orders.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .httputil import SIM_KEY, error

# The documented lists (2026): refused outright, and close-only (no new positions).
BLOCKED = frozenset({"AU", "BE", "BY", "BI", "CF", "CD", "CU", "DE", "ET", "FR", "GB", "IR", "IQ", "IT", "KP", "LB",
                     "LY", "MM", "NI", "NL", "RU", "SO", "SS", "SD", "SY", "UM", "US", "VE", "YE"})
CLOSE_ONLY = frozenset({"PL", "SG", "TH", "TW"})
BLOCKED_REGIONS = frozenset({"UA-43", "UA-14", "UA-09"})  # Crimea, Donetsk, Luhansk (OFAC)
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


@routes.get("/api/geoblock")
async def geoblock(request: web.Request) -> web.Response:
    country, region = parse_where(request.app[SIM_KEY].cfg.location)
    return web.json_response({"blocked": blocked(country, region), "ip": request.remote or "127.0.0.1",
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
            country, region = parse_where(request.app[SIM_KEY].cfg.location)
            if blocked(country, region) or (country in CLOSE_ONLY and _opens(await request.read())):
                return error(403, REFUSAL)
        return await handler(request)

    return refuse_region
