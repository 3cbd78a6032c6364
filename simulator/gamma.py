"""Gamma API stand-in under ``/gamma``: ``/markets`` (+ by id / slug) and ``/events``.

Gamma returns bare JSON arrays, encodes ``outcomes``/``outcomePrices``/
``clobTokenIds`` as JSON strings, and filters ``closed=false`` unless told otherwise.
"""

from __future__ import annotations

from typing import Any, Callable

from aiohttp import web

from .httputil import SIM_KEY, HttpError, ok, query_int
from .markets import GROUP_TITLES, Market, iso
from .views import gamma_market

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "volume": lambda m: m["volumeNum"], "volumeNum": lambda m: m["volumeNum"],
    "liquidity": lambda m: m["liquidityNum"], "liquidityNum": lambda m: m["liquidityNum"],
    "volume24hr": lambda m: m["volume24hr"], "endDate": lambda m: m["endDate"],
    "startDate": lambda m: m["startDate"], "id": lambda m: int(m["id"]),
}
routes = web.RouteTableDef()


def _flag(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):
        raise HttpError(400, f"invalid {name}")
    return raw.lower() == "true"


def _multi(request: web.Request, name: str) -> set[str]:
    """Repeated (``?a=1&a=2``) or comma-separated (``?a=1,2``) values."""
    out: set[str] = set()
    for raw in request.query.getall(name, []):
        out.update(v.strip() for v in raw.split(",") if v.strip())
    return out


def _gamma_all(request: web.Request) -> list[tuple[Market, dict[str, Any]]]:
    sim = request.app[SIM_KEY]
    return [(m, gamma_market(m, sim.exchange.books[m.condition_id])) for m in sim.exchange.markets.values()]


def _keep(request: web.Request, market: Market) -> bool:
    closed = _flag(request, "closed")
    closed = False if closed is None else closed  # Gamma's implicit closed=false
    active, archived = _flag(request, "active"), _flag(request, "archived")
    ids, slugs = _multi(request, "id"), _multi(request, "slug")
    tokens, conds = _multi(request, "clob_token_ids"), _multi(request, "condition_ids")
    return (market.closed == closed
            and active in (None, True)
            and archived in (None, False)
            and (not ids or market.gamma_id in ids)
            and (not slugs or market.slug in slugs)
            and (not tokens or bool(tokens & {t.token_id for t in market.tokens}))
            and (not conds or market.condition_id in conds))


def _window(request: web.Request, items: list[Any]) -> list[Any]:
    limit = query_int(request, "limit")
    offset = query_int(request, "offset") or 0
    limit = DEFAULT_LIMIT if limit is None else max(0, min(limit, MAX_LIMIT))
    return items[offset:offset + limit]


@routes.get("/gamma/markets")
async def list_markets(request: web.Request) -> web.Response:
    rows = [g for m, g in _gamma_all(request) if _keep(request, m)]
    order = request.query.get("order")
    if order:
        key = SORT_KEYS.get(order.split(",")[0])
        if key is None:
            raise HttpError(400, f"invalid order: {order}")
        rows.sort(key=key, reverse=_flag(request, "ascending") is not True)
    return ok(_window(request, rows))


@routes.get("/gamma/markets/slug/{slug}")
async def market_by_slug(request: web.Request) -> web.Response:
    for market, row in _gamma_all(request):
        if market.slug == request.match_info["slug"]:
            return ok(row)
    raise HttpError(404, "market not found")


@routes.get("/gamma/markets/{id}")
async def market_by_id(request: web.Request) -> web.Response:
    for market, row in _gamma_all(request):
        if market.gamma_id == request.match_info["id"]:
            return ok(row)
    raise HttpError(404, "market not found")


def _events(request: web.Request) -> list[dict[str, Any]]:
    """One event per neg-risk group, one per standalone market."""
    groups: dict[str, list[tuple[Market, dict[str, Any]]]] = {}
    for market, row in _gamma_all(request):
        groups.setdefault(market.group or f"single:{market.gamma_id}", []).append((market, row))
    return [_event(key, members) for key, members in groups.items()]


def _event(key: str, members: list[tuple[Market, dict[str, Any]]]) -> dict[str, Any]:
    first = members[0][0]
    grouped = bool(first.group)
    return {
        "id": str(900_000 + int(first.gamma_id) % 100_000) if grouped else "9" + first.gamma_id,
        "slug": first.group if grouped else first.slug,
        "title": GROUP_TITLES.get(first.group, first.group) if grouped else first.question,
        "description": first.description,
        "active": True,
        "closed": all(m.closed for m, _ in members),
        "archived": False,
        "negRisk": first.neg_risk,
        "negRiskMarketID": first.neg_risk_market_id,
        "startDate": iso(first.start_ts),
        "endDate": first.end_date_iso,
        "markets": [row for _, row in members],
    }


@routes.get("/gamma/events")
async def list_events(request: web.Request) -> web.Response:
    closed = _flag(request, "closed")
    closed = False if closed is None else closed
    ids, slugs = _multi(request, "id"), _multi(request, "slug")
    rows = [e for e in _events(request) if e["closed"] == closed
            and (not ids or e["id"] in ids) and (not slugs or e["slug"] in slugs)]
    return ok(_window(request, rows))


@routes.get("/gamma/events/{id}")
async def event_by_id(request: web.Request) -> web.Response:
    for event in _events(request):
        if event["id"] == request.match_info["id"]:
            return ok(event)
    raise HttpError(404, "event not found")
