"""The Data API stand-in (``/data-api``) and the CLOB's rebate route.

- ``GET /data-api/activity?user=<wallet>&type=REDEEM,MERGE,MAKER_REBATE[&start&end][&limit&offset]
  [&sortDirection=ASC|DESC]``: what the venue paid the wallet outside trading (activity.py),
  newest first by default, ``limit`` at most 500 (as data-api.polymarket.com caps it).
  ``type`` may repeat or be a comma list; trades are not listed here (the CLOB serves them).
- ``GET /data-api/trades?[user=<wallet>][&market=<condition ids>][&takerOnly=true|false][&side]
  [&limit&offset]``: the public trade tape (public_trades.py), newest first.
- ``GET /rebates/current?date=YYYY-MM-DD&maker_address=<wallet>`` (CLOB, no auth): the maker's
  rebated fees of that day by market, or ``null`` when there are none (as the venue answers).
"""

from __future__ import annotations

import re

from aiohttp import web

from .activity import KINDS
from .httputil import SIM_KEY, HttpError, ok, query_int
from .public_trades import MAX_LIMIT as TAPE_MAX_LIMIT
from .public_trades import MAX_OFFSET as TAPE_MAX_OFFSET

ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
CONDITION = re.compile(r"^0x[0-9a-fA-F]{64}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_LIMIT = 500
routes = web.RouteTableDef()


def _kinds(request: web.Request) -> tuple[str, ...]:
    raw = [part.strip().upper() for value in request.query.getall("type", []) for part in value.split(",")]
    kinds = tuple(k for k in raw if k)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise HttpError(400, f"type must be among {', '.join(KINDS)} here, not {', '.join(unknown)}")
    return kinds or KINDS


@routes.get("/data-api/activity")
async def activity(request: web.Request) -> web.Response:
    user = request.query.get("user", "")
    if not ADDRESS.match(user):
        raise HttpError(400, "user must be a wallet address")
    limit = query_int(request, "limit") or 100
    offset = query_int(request, "offset") or 0
    if not 0 < limit <= MAX_LIMIT or offset < 0:
        raise HttpError(400, f"limit must be 1 to {MAX_LIMIT}, offset >= 0")
    items = request.app[SIM_KEY].activity.of(user, _kinds(request), query_int(request, "start"),
                                             query_int(request, "end"))
    if request.query.get("sortDirection", "DESC").upper() == "ASC":
        items.reverse()
    return ok([item.as_json() for item in items[offset:offset + limit]])


@routes.get("/data-api/trades")
async def trades(request: web.Request) -> web.Response:
    """The public trade tape (public_trades.py): a wallet's or markets' trades, newest first."""
    user = request.query.get("user")
    if user is not None and not ADDRESS.match(user):
        raise HttpError(400, "user must be a wallet address")
    markets = {m.strip() for m in request.query.get("market", "").split(",") if m.strip()} or None
    if markets is not None and not all(CONDITION.match(m) for m in markets):
        raise HttpError(400, "market must be condition ids (0x and 64 hex digits), comma-separated")
    limit = query_int(request, "limit")
    limit = 100 if limit is None else limit
    offset = query_int(request, "offset") or 0
    if not 0 <= limit <= TAPE_MAX_LIMIT or not 0 <= offset <= TAPE_MAX_OFFSET:
        raise HttpError(400, f"limit must be 0 to {TAPE_MAX_LIMIT} and offset 0 to {TAPE_MAX_OFFSET}")
    side = request.query.get("side")
    if side is not None and side.upper() not in ("BUY", "SELL"):
        raise HttpError(400, "side must be BUY or SELL")
    taker_only = request.query.get("takerOnly", "true").lower()
    if taker_only not in ("true", "false"):
        raise HttpError(400, "takerOnly must be true or false")
    rows = request.app[SIM_KEY].tape.rows(user=user.lower() if user else None, markets=markets,
                                          taker_only=taker_only == "true", side=side.upper() if side else None)
    return ok(rows[offset:offset + limit])


@routes.get("/rebates/current")
async def rebates_current(request: web.Request) -> web.Response:
    day, maker = request.query.get("date", ""), request.query.get("maker_address", "")
    if not DATE.match(day):
        raise HttpError(400, "Invalid date")
    if not ADDRESS.match(maker):
        raise HttpError(400, "Invalid maker_address")
    return ok(request.app[SIM_KEY].rebates.current(day, maker))
