"""Gamma API stand-in under ``/gamma``: ``/markets`` (+ by id / slug), ``/markets/keyset`` and
``/events`` (+ by id).

Gamma returns bare JSON arrays (the keyset listing an object with ``markets`` and
``next_cursor``), encodes ``outcomes``/``outcomePrices``/``clobTokenIds`` as JSON strings, and
filters ``closed=false`` unless told otherwise. As the venue does: the offset-paged ``/markets``
answers 422 past offset 2000 (use the keyset listing); ``/markets/keyset`` pages by
``after_cursor``, at most 100 a page, refuses ``offset`` and leaves ``next_cursor`` out on the
last page; market items carry ``tags`` only when ``include_tag=true`` is asked, and name their
event (``events``). The second neg-risk group, when served, is an *augmented* event: its last
market is the "Other" one (``negRiskOther``) and the event lists a placeholder to be named later
(no tokens, not accepting orders).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .httputil import SIM_KEY, HttpError, ok, query_int
from .markets import GROUP_TITLES, Market, iso
from .views import gamma_market

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_OFFSET = 2000  # the deprecated offset listing's limit at the venue
KEYSET_MAX_LIMIT = 100
KEYSET_DEFAULT_LIMIT = 20
AUGMENTED = frozenset({"fed-feb-2023"})  # neg-risk groups served as augmented events
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
    markets = list(sim.exchange.markets.values())
    others = _other_markets(markets)
    with_tags = _flag(request, "include_tag") is True
    out = []
    for m in markets:
        row = gamma_market(m, sim.exchange.books[m.condition_id])
        if not with_tags:
            row.pop("tags", None)  # the venue's items carry tags only when asked
        augmented = m.group in AUGMENTED
        row["events"] = [{"id": event_id(m), "negRiskAugmented": augmented}]
        row["negRiskOther"] = m.condition_id in others
        out.append((m, row))
    return out


def event_id(market: Market) -> str:
    """The Gamma event id of a market: one per neg-risk group, one per standalone market."""
    if market.group:
        return str(900_000 + sum(market.group.encode()) % 100_000)
    return "9" + market.gamma_id


def _other_markets(markets: list[Market]) -> set[str]:
    """The "Other" market of each augmented group: its last one."""
    last: dict[str, str] = {}
    for m in markets:
        if m.group in AUGMENTED:
            last[m.group] = m.condition_id
    return set(last.values())


def _validation_error(message: str) -> web.Response:
    return web.Response(status=422, text=json.dumps({"type": "validation error", "error": message}),
                        content_type="application/json")


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
    if (query_int(request, "offset") or 0) > MAX_OFFSET:
        return _validation_error("offset too large, use /markets/keyset for deeper pagination")
    rows = [g for m, g in _gamma_all(request) if _keep(request, m)]
    order = request.query.get("order")
    if order:
        key = SORT_KEYS.get(order.split(",")[0])
        if key is None:
            raise HttpError(400, f"invalid order: {order}")
        rows.sort(key=key, reverse=_flag(request, "ascending") is not True)
    return ok(_window(request, rows))


@routes.get("/gamma/markets/keyset")
async def keyset_markets(request: web.Request) -> web.Response:
    """The venue's listing past any size: pages by an opaque ``after_cursor``."""
    if "offset" in request.query:
        return _validation_error("offset is not supported by keyset pagination, use after_cursor")
    limit = query_int(request, "limit")
    limit = KEYSET_DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= KEYSET_MAX_LIMIT:
        return _validation_error(f"limit must be between 1 and {KEYSET_MAX_LIMIT}")
    start = _cursor_position(request.query.get("after_cursor"))
    if start is None:
        return _validation_error("invalid after_cursor")
    rows = [g for m, g in _gamma_all(request) if _keep(request, m)]
    rows.sort(key=lambda g: int(g["id"]))
    page = [g for g in rows if int(g["id"]) > start][:limit]
    body: dict[str, Any] = {"markets": page}
    if page and int(page[-1]["id"]) < int(rows[-1]["id"]):
        body["next_cursor"] = base64.urlsafe_b64encode(f"id:{page[-1]['id']}".encode()).decode()
    return ok(body)


def _cursor_position(raw: str | None) -> int | None:
    """The last id of the previous page (-1 before the first), or None for a cursor we never gave."""
    if not raw:
        return -1
    try:
        text = base64.urlsafe_b64decode(raw.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    kind, _, value = text.partition(":")
    return int(value) if kind == "id" and value.isdigit() else None


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
    """One event per neg-risk group, one per standalone market (an up/down window's with its
    `eventMetadata`: the price to beat, then the final price, as Gamma publishes them)."""
    groups: dict[str, list[tuple[Market, dict[str, Any]]]] = {}
    for market, row in _gamma_all(request):
        groups.setdefault(market.group or f"single:{market.gamma_id}", []).append((market, row))
    updown, now = request.app[SIM_KEY].updown, time.time()
    events = []
    for key, members in groups.items():
        event = _event(key, members)
        meta = updown.event_metadata(members[0][0].condition_id, now) if updown is not None else None
        if meta is not None:
            event["eventMetadata"] = meta
        events.append(event)
    return events


def _event(key: str, members: list[tuple[Market, dict[str, Any]]]) -> dict[str, Any]:
    first = members[0][0]
    grouped = bool(first.group)
    augmented = first.group in AUGMENTED
    rows = [row for _, row in members]
    if augmented:
        rows.append(_placeholder(first))
    return {
        "id": event_id(first),
        "slug": first.group if grouped else first.slug,
        "title": GROUP_TITLES.get(first.group, first.group) if grouped else first.question,
        "description": first.description,
        "active": True,
        "closed": all(m.closed for m, _ in members),
        "archived": False,
        "negRisk": first.neg_risk,
        "negRiskMarketID": first.neg_risk_market_id,
        "negRiskAugmented": augmented,
        "startDate": iso(first.start_ts),
        "endDate": first.end_date_iso,
        "markets": rows,
    }


def _placeholder(first: Market) -> dict[str, Any]:
    """An augmented event's outcome to be named later: listed, with no tokens, not accepting orders."""
    cid = "0x" + hashlib.sha256(f"placeholder:{first.group}".encode()).hexdigest()
    return {"id": "8" + first.gamma_id, "question": f"{GROUP_TITLES.get(first.group, first.group)}: outcome to be "
            "named later", "conditionId": cid, "clobTokenIds": "[]", "outcomes": "[]", "active": True,
            "closed": False, "acceptingOrders": False, "enableOrderBook": False, "negRisk": True,
            "negRiskMarketID": first.neg_risk_market_id, "negRiskOther": False}


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
