"""Kalshi's REST routes (``/trade-api/v2``): how a request is checked (its signature, its token
bucket, the pause in force) and Kalshi's error bodies, then the public market data. The portfolio
and the V2 order endpoints are in http_portfolio.py, the admin calls in http_admin.py.

Errors, from Kalshi's Order Errors page: ``{"error": {"code", "message", "details"}}`` (details
left out when there is nothing to add); a body that cannot be parsed answers the same fields at the
top level; a 429 answers ``{"error": "too many requests"}`` with no Retry-After.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..httputil import SIM_KEY
from . import payloads
from .exchange import Refused
from .keys import AuthError
from .shards import SHARDS, shard_named, write_scopes
from .side import DEFAULT_COST, PER_ITEM, KalshiSide

BASE = "/trade-api/v2"
MAX_PAGE = 1000
routes = web.RouteTableDef()


def error(status: int, code: str, message: str, details: str = "") -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return web.json_response({"error": body}, status=status)


def side_of(request: web.Request) -> KalshiSide:
    side: KalshiSide = request.app[SIM_KEY].kalshi
    return side


def now_ms() -> int:
    return int(time.time() * 1000)


Endpoint = Callable[[web.Request, str], Awaitable[Any]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def endpoint(method: str, route: str, *, auth: bool, write: bool = False, status: int = 200) -> Callable[[Endpoint],
                                                                                                          Handler]:
    """A route checked as Kalshi checks it (the signature when `auth`, or whenever a key is sent; the
    read or write bucket, at the route's cost), called with the caller's account. Its JSON answer is
    sent with `status`; a Refused it raises is the error it answers. Every answer is shown to the
    side's observers (the tests check each against Kalshi's published schema)."""
    def wrap(fn: Endpoint) -> Handler:
        @routes.route(method, BASE + route)
        @functools.wraps(fn)
        async def handler(request: web.Request) -> web.StreamResponse:
            side = side_of(request)
            side.tick()
            cost = side.costs().get((method, route), DEFAULT_COST)
            if (method, route) in PER_ITEM:  # a batch: every item billed (Kalshi's batch pages)
                cost = PER_ITEM[(method, route)] * await batch_size(request)
            scopes = await write_scopes_of(request, method, route) if write else ("",)
            answer = await _answer(request, side, fn, auth=auth, write=write, cost=cost, scopes=scopes)
            if isinstance(answer, web.Response):
                side.observe(method, route, answer.status, answer.text)
                return answer
            side.observe(method, route, status, answer)
            return web.json_response(answer, status=status)
        return handler
    return wrap


async def _answer(request: web.Request, side: KalshiSide, fn: Endpoint, *, auth: bool, write: bool,
                  cost: int, scopes: tuple[str, ...] = ("",)) -> Any:
    who = request.remote or "anonymous"
    if auth or "KALSHI-ACCESS-KEY" in request.headers:
        h = request.headers
        try:
            key = side.keys.verify(h.get("KALSHI-ACCESS-KEY"), h.get("KALSHI-ACCESS-TIMESTAMP"),
                                   h.get("KALSHI-ACCESS-SIGNATURE"), request.method, request.path, now_ms())
        except AuthError as exc:
            return error(401, "authentication_error", "authentication error", str(exc))
        who = key.account
        side.exchange.open_account(who)
        if write and not key.trades:
            return error(403, "forbidden", "this API key does not have the write scope",
                         "create a key with the write (or write::trade) scope to place and cancel orders")
        named = request.query.get("subaccount")
        if key.subaccount is not None and named is not None and named != str(key.subaccount):
            return error(403, "forbidden", "this API key is restricted to another subaccount",
                         f"the key trades subaccount {key.subaccount} only: omit subaccount or pass it")
    if side.limited(who, write, cost, scopes):
        return web.json_response({"error": "too many requests"}, status=429)
    try:
        return await fn(request, who)
    except Refused as exc:
        return error(exc.status, exc.code, exc.message, exc.details)


# The single order writes a shard's own write bucket bills (Rate Limits and Tiers): where each names its shard.
SINGLE_WRITES = {("POST", "/portfolio/events/orders"): "body",
                 ("DELETE", "/portfolio/events/orders/{order_id}"): "query",
                 ("POST", "/portfolio/events/orders/{order_id}/amend"): "body",
                 ("POST", "/portfolio/events/orders/{order_id}/decrease"): "body"}


async def write_scopes_of(request: web.Request, method: str, route: str) -> tuple[str, ...]:
    """The write buckets a write is billed to (shards.write_scopes); a batch and any other write, the
    unscoped one. An index the request cannot name is billed as omitted (the handler refuses it)."""
    where = SINGLE_WRITES.get((method, route))
    if where is None:
        return ("",)
    if where == "query":
        raw: object = request.query.get("exchange_index")
    else:
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            return ("",)
        raw = body.get("exchange_index") if isinstance(body, dict) else None
    try:
        return write_scopes(shard_named(raw))
    except Refused:
        return ("",)


async def batch_size(request: web.Request) -> int:
    """How many items a batch request carries (1 when its body cannot be read: it is refused anyway)."""
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        return 1
    orders = body.get("orders") if isinstance(body, dict) else None
    return max(1, len(orders)) if isinstance(orders, list) else 1


def page(request: web.Request, items: list[Any], default: int = 100) -> tuple[list[Any], str]:
    """One page of `items` and the cursor of the next ("" at the end)."""
    try:
        start = int(request.query.get("cursor") or 0)
        limit = int(request.query.get("limit") or default)
    except ValueError:
        raise Refused(400, "invalid_parameters", "invalid parameters", "cursor and limit must be integers") from None
    if start < 0 or not 1 <= limit <= MAX_PAGE:
        raise Refused(400, "invalid_parameters", "invalid parameters", f"limit must be 1..{MAX_PAGE}")
    return items[start:start + limit], str(start + limit) if start + limit < len(items) else ""


def window(request: web.Request) -> Callable[[int], bool]:
    """Whether a time (epoch ms) lies within the request's `min_ts`..`max_ts` (Unix seconds, both ends
    included; either may be left out)."""
    low, high = seconds(request, "min_ts"), seconds(request, "max_ts")
    return lambda at_ms: (low is None or at_ms >= low * 1000) and (high is None or at_ms < (high + 1) * 1000)


def seconds(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise Refused(400, "invalid_parameters", "invalid parameters", f"{name} must be Unix seconds")
    return int(raw)


# -- the exchange ------------------------------------------------------------------------


@endpoint("GET", "/exchange/status", auth=False)
async def exchange_status(request: web.Request, who: str) -> Any:
    window = side_of(request).lifecycle.pause_now(now_ms())
    exchange_active, trading_active = window is None or window.kind != "exchange", window is None
    body: dict[str, Any] = {"exchange_active": exchange_active, "trading_active": trading_active,
                            "intra_exchange_transfers_active": exchange_active,
                            "exchange_index_statuses": [  # each shard pauses with the exchange (Exchange Sharding)
                                {"exchange_index": index, "description": name, "exchange_active": exchange_active,
                                 "trading_active": trading_active, "intra_exchange_transfers_active": exchange_active}
                                for index, name in SHARDS.items()]}
    if window is not None:
        body["exchange_estimated_resume_time"] = payloads.iso(window.end_ms)
    return body


@endpoint("GET", "/exchange/schedule", auth=False)
async def exchange_schedule(request: web.Request, who: str) -> Any:
    always = [{"open_time": "00:00", "close_time": "23:59"}]
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    start = now_ms() - 86_400_000
    windows = side_of(request).lifecycle.windows(now_ms())
    return {"schedule": {
        "standard_hours": [{"start_time": payloads.iso(start), "end_time": payloads.iso(start + 365 * 86_400_000),
                            **{day: always for day in days}}],
        "maintenance_windows": [{"start_datetime": payloads.iso(w.start_ms), "end_datetime": payloads.iso(w.end_ms)}
                                for w in windows]}}


@endpoint("GET", "/account/endpoint_costs", auth=False)
async def endpoint_costs(request: web.Request, who: str) -> Any:
    listed = {**side_of(request).costs(), **{k: v for k, v in PER_ITEM.items() if v != DEFAULT_COST}}
    return {"default_cost": DEFAULT_COST, "endpoint_costs": [
        {"method": method, "path": f"{BASE}{route}", "cost": cost} for (method, route), cost in sorted(listed.items())]}


# -- markets ---------------------------------------------------------------------------------

STATUS_FILTER = {"unopened": {"initialized"}, "open": {"active"}, "paused": {"inactive"},
                 "closed": {"closed", "determined", "disputed", "amended"}, "settled": {"finalized"}}


@endpoint("GET", "/markets", auth=False)
async def list_markets(request: web.Request, who: str) -> Any:
    ex = side_of(request).exchange
    q = request.query
    status = q.get("status")
    if status is not None and status not in STATUS_FILTER:
        raise Refused(400, "invalid_parameters", "invalid parameters", "status must be unopened, open, paused, "
                      "closed or settled")
    mve = q.get("mve_filter")
    if mve is not None and mve not in ("only", "exclude"):
        raise Refused(400, "invalid_parameters", "invalid parameters", "mve_filter must be only or exclude")
    wanted = set(filter(None, q.get("tickers", "").split(",")))
    chosen = [m for m in ex.markets.values()
              if (not q.get("event_ticker") or m.event_ticker == q["event_ticker"])
              and (not q.get("series_ticker") or m.series_ticker == q["series_ticker"])
              and (not wanted or m.ticker in wanted) and (status is None or m.status in STATUS_FILTER[status])
              and (mve is None or (m.mve_collection is not None) == (mve == "only"))]
    items, cursor = page(request, chosen)
    return {"markets": [payloads.market(m, ex.books[m.ticker]) for m in items], "cursor": cursor}


@endpoint("GET", "/markets/trades", auth=False)
async def list_trades(request: web.Request, who: str) -> Any:
    """Every match, newest first, of one market (`ticker`) or all, within [min_ts, max_ts]."""
    ex = side_of(request).exchange
    within = window(request)
    ticker = request.query.get("ticker")
    chosen = [t for t in reversed(ex.trades) if (not ticker or t.ticker == ticker) and within(t.created_ms)]
    items, cursor = page(request, chosen)
    return {"trades": [payloads.public_trade(t) for t in items], "cursor": cursor}


@endpoint("GET", "/markets/orderbooks", auth=False)
async def many_orderbooks(request: web.Request, who: str) -> Any:
    ex = side_of(request).exchange
    tickers = request.query.getall("tickers", [])
    tickers = [t for raw in tickers for t in raw.split(",") if t]
    if not 1 <= len(tickers) <= 100:
        raise Refused(400, "invalid_parameters", "invalid parameters", "tickers: 1 to 100 market tickers")
    for ticker in tickers:
        ex.market(ticker)
    return {"orderbooks": [{"ticker": t, "orderbook_fp": payloads.levels(ex.books[t], 0)} for t in tickers]}


@endpoint("GET", "/markets/{ticker}", auth=False)
async def get_market(request: web.Request, who: str) -> Any:
    ex = side_of(request).exchange
    m = ex.market(request.match_info["ticker"])
    return {"market": payloads.market(m, ex.books[m.ticker])}


@endpoint("GET", "/markets/{ticker}/orderbook", auth=False)
async def get_orderbook(request: web.Request, who: str) -> Any:
    ex = side_of(request).exchange
    m = ex.market(request.match_info["ticker"])
    depth = request.query.get("depth", "0")
    if not depth.isdigit() or int(depth) > 100:
        raise Refused(400, "invalid_parameters", "invalid parameters", "depth must be 0..100")
    return {"orderbook_fp": payloads.levels(ex.books[m.ticker], int(depth))}


@endpoint("GET", "/events/fee_changes", auth=False)
async def event_fee_changes(request: web.Request, who: str) -> Any:
    """The changes of events' fee overrides Kalshi scheduled (`event_ticker`: one event's), paged. Only
    those still to come are listed: Kalshi's page does not say it lists past ones (the stricter
    reading; a client keeps what it read)."""
    side = side_of(request)
    wanted, now = request.query.get("event_ticker"), now_ms()
    upcoming = sorted((c for ticker, fees in side.event_fees.items() if wanted in (None, ticker)
                       for c in fees.changes if c.at_ms > now), key=lambda c: (c.at_ms, c.change_id))
    items, cursor = page(request, upcoming)
    return {"event_fee_changes": [payloads.event_fee_change(c) for c in items], "cursor": cursor}


@endpoint("GET", "/events/{event_ticker}", auth=False)
async def get_event(request: web.Request, who: str) -> Any:
    side = side_of(request)
    event = request.match_info["event_ticker"]
    if event not in side.events:
        raise Refused(404, "not_found", f"event {event} not found")
    series, title = side.events[event]
    ex = side.exchange
    override = payloads.event_override(side.event_fees.get(event), now_ms())
    markets = [m for m in ex.markets.values() if m.event_ticker == event]
    return {"event": payloads.event(event, series, title, override, markets[0].exchange_index if markets else 0),
            "markets": [payloads.market(m, ex.books[m.ticker]) for m in markets]}


@endpoint("GET", "/series/fee_changes", auth=False)
async def fee_changes(request: web.Request, who: str) -> Any:
    """The changes scheduled for a series (`series_ticker`), or for every series: those still to come,
    and the past ones too with `show_historical=true`."""
    side = side_of(request)
    wanted, historical = request.query.get("series_ticker"), request.query.get("show_historical", "false")
    if historical not in ("true", "false"):
        raise Refused(400, "invalid_parameters", "show_historical must be true or false")
    now = now_ms()
    listed = [payloads.fee_change(c) for ticker, fees in side.series.items() if wanted in (None, ticker)
              for c in sorted(fees.changes, key=lambda c: c.at_ms) if historical == "true" or c.at_ms > now]
    return {"series_fee_change_arr": listed + list(side.raw_fee_changes)}


@endpoint("GET", "/series/{series_ticker}", auth=False)
async def get_series(request: web.Request, who: str) -> Any:
    side = side_of(request)
    ticker = request.match_info["series_ticker"]
    schedule = side.series.get(ticker)
    if schedule is None:
        raise Refused(404, "not_found", f"series {ticker} not found")
    now = schedule.at(now_ms())
    return {"series": payloads.series(ticker, now.fee_type, float(now.multiplier), side.categories.get(ticker))}


@endpoint("GET", "/series/{series_ticker}/markets/{ticker}/candlesticks", auth=False)
async def candlesticks(request: web.Request, who: str) -> Any:
    ex = side_of(request).exchange
    m = ex.market(request.match_info["ticker"])
    start, end = seconds(request, "start_ts"), seconds(request, "end_ts")
    period = request.query.get("period_interval", "")
    if start is None or end is None or period not in ("1", "60", "1440") or end < start:
        raise Refused(400, "invalid_parameters", "invalid parameters",
                      "start_ts, end_ts (Unix seconds) and period_interval 1, 60 or 1440 are required")
    period_s = int(period) * 60
    if (end - start) // period_s > 5000:
        raise Refused(400, "invalid_parameters", "invalid parameters", "at most 5000 candlesticks a request")
    return {"ticker": m.ticker, "candlesticks": payloads.candlesticks(m, period_s, start, end)}


@endpoint("GET", "/historical/cutoff", auth=False)
async def historical_cutoff(request: web.Request, who: str) -> Any:
    old = payloads.iso(now_ms() - 90 * 86_400_000)
    return {"market_settled_ts": old, "trades_created_ts": old, "orders_updated_ts": old,
            "market_positions_last_updated_ts": payloads.iso(now_ms() - side_of(request).history_lag_ms)}
