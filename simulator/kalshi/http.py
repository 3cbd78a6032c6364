"""Kalshi's REST routes (``/trade-api/v2``) and the admin calls that stand in for its website
(``/_sim/kalshi``). Errors answer with Kalshi's documented ErrorResponse, ``{"code", "message",
"service"}`` (the shape its official SDK reads)."""

from __future__ import annotations

import functools
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..httputil import SIM_KEY
from . import payloads
from .exchange import Refused
from .keys import AuthError, BadPublicKey
from .orders import RESTING, STP_KINDS, TIFS
from .side import KalshiSide

BASE = "/trade-api/v2"
CLIENT_ID = re.compile(r"^[\-\w:+=/]{1,64}$")
DOLLARS = re.compile(r"^0\.(\d{2})(00)?$")  # a whole-cent price in dollars: 0.01 .. 0.99
MAX_PAGE = 1000
UNSUPPORTED = ("buy_max_cost", "reduce_only", "sell_position_floor", "order_group_id", "expiration_ts",
               "cancel_order_on_pause")
routes = web.RouteTableDef()


def kalshi_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"code": code, "message": message, "service": "exchange"}
    return web.json_response(body, status=status, headers=headers)


def _side(request: web.Request) -> KalshiSide:
    side: KalshiSide = request.app[SIM_KEY].kalshi
    return side


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _gate(request: web.Request, *, auth: bool, write: bool = False) -> str | web.Response:
    """The caller's account (or its address for a public read), or the refusal to answer with."""
    side = _side(request)
    who = request.remote or "anonymous"
    if auth or "KALSHI-ACCESS-KEY" in request.headers:
        h = request.headers
        try:
            key = side.keys.verify(h.get("KALSHI-ACCESS-KEY"), h.get("KALSHI-ACCESS-TIMESTAMP"),
                                   h.get("KALSHI-ACCESS-SIGNATURE"), request.method, request.path, _now_ms())
        except AuthError as exc:
            return kalshi_error(401, "authentication_error", str(exc))
        who = key.account
        side.exchange.open_account(who)
    wait = side.limited(who, write)
    if wait:
        return kalshi_error(429, "too_many_requests", f"{'write' if write else 'read'} rate limit exceeded",
                            {"Retry-After": str(max(1, math.ceil(wait)))})
    return who


def _page(request: web.Request, items: list[Any]) -> tuple[list[Any], str]:
    """One page of `items` and the cursor of the next ("" at the end)."""
    try:
        start = int(request.query.get("cursor") or 0)
        limit = int(request.query.get("limit") or 100)
    except ValueError:
        raise Refused(400, "invalid_parameters", "cursor and limit must be integers") from None
    if start < 0 or not 1 <= limit <= MAX_PAGE:
        raise Refused(400, "invalid_parameters", f"limit must be 1..{MAX_PAGE}")
    page = items[start:start + limit]
    return page, str(start + limit) if start + limit < len(items) else ""


def _refused(exc: Refused) -> web.Response:
    return kalshi_error(exc.status, exc.code, exc.message)


Endpoint = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


def endpoint(*, auth: bool, write: bool = False) -> Callable[[Endpoint], Callable[[web.Request],
                                                                                  Awaitable[web.StreamResponse]]]:
    """A route checked as Kalshi checks it (the signature when `auth`, or when a key is sent; the
    read or write bucket), called with the caller's account; a Refused it raises is its answer."""
    def wrap(fn: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @functools.wraps(fn)
        async def handler(request: web.Request) -> web.StreamResponse:
            who = await _gate(request, auth=auth, write=write)
            if isinstance(who, web.Response):
                return who
            try:
                return await fn(request, who)
            except Refused as exc:
                return _refused(exc)
        return handler
    return wrap


# -- public market data -----------------------------------------------------------------


@routes.get(f"{BASE}/exchange/status")
@endpoint(auth=False)
async def exchange_status(request: web.Request, who: str) -> web.StreamResponse:
    return web.json_response({"exchange_active": True, "trading_active": True})


@routes.get(f"{BASE}/markets")
@endpoint(auth=False)
async def list_markets(request: web.Request, who: str) -> web.StreamResponse:
    ex = _side(request).exchange
    q = request.query
    wanted = set(filter(None, q.get("tickers", "").split(",")))
    status = q.get("status")  # unopened | open | closed | settled
    chosen = [m for m in ex.markets.values()
              if (not q.get("event_ticker") or m.event_ticker == q["event_ticker"])
              and (not q.get("series_ticker") or m.event_ticker.split("-")[0] == q["series_ticker"])
              and (not wanted or m.ticker in wanted)
              and (not status or {"open": "active"}.get(status, status) == m.status)]
    page, cursor = _page(request, chosen)
    return web.json_response({"markets": [payloads.market(m, ex.books[m.ticker]) for m in page], "cursor": cursor})


@routes.get(f"{BASE}/markets/trades")  # before /markets/{ticker}, which would take "trades" for a ticker
@endpoint(auth=False)
async def list_trades(request: web.Request, who: str) -> web.StreamResponse:
    """Every match, newest first, of one market (`ticker`) or all, within [min_ts, max_ts] (Unix
    seconds), in cursor pages."""
    ex = _side(request).exchange
    q = request.query
    try:
        low = int(q["min_ts"]) * 1000 if q.get("min_ts") else None
        high = int(q["max_ts"]) * 1000 + 999 if q.get("max_ts") else None
    except ValueError:
        return kalshi_error(400, "invalid_parameters", "min_ts and max_ts are Unix seconds")
    chosen = [t for t in reversed(ex.trades) if (not q.get("ticker") or t.ticker == q["ticker"])
              and (low is None or t.created_ms >= low) and (high is None or t.created_ms <= high)]
    page, cursor = _page(request, chosen)
    return web.json_response({"trades": [payloads.public_trade(t) for t in page], "cursor": cursor})


@routes.get(f"{BASE}/markets/{{ticker}}")
@endpoint(auth=False)
async def get_market(request: web.Request, who: str) -> web.StreamResponse:
    ex = _side(request).exchange
    m = ex.markets.get(request.match_info["ticker"])
    if m is None:
        return kalshi_error(404, "not_found", f"no market {request.match_info['ticker']}")
    return web.json_response({"market": payloads.market(m, ex.books[m.ticker])})


@routes.get(f"{BASE}/markets/{{ticker}}/orderbook")
@endpoint(auth=False)
async def get_orderbook(request: web.Request, who: str) -> web.StreamResponse:
    ex = _side(request).exchange
    ticker = request.match_info["ticker"]
    if ticker not in ex.books:
        return kalshi_error(404, "not_found", f"no market {ticker}")
    depth = request.query.get("depth", "0")
    if not depth.isdigit() or int(depth) > 100:
        return kalshi_error(400, "invalid_parameters", "depth must be 0..100")
    return web.json_response({"orderbook": payloads.orderbook(ex.books[ticker], int(depth))})


@routes.get(f"{BASE}/events/{{event_ticker}}")
@endpoint(auth=False)
async def get_event(request: web.Request, who: str) -> web.StreamResponse:
    side = _side(request)
    event = request.match_info["event_ticker"]
    if event not in side.events:
        return kalshi_error(404, "not_found", f"no event {event}")
    ex = side.exchange
    markets = [payloads.market(m, ex.books[m.ticker]) for m in ex.markets.values() if m.event_ticker == event]
    return web.json_response({"event": payloads.event(event, side.events[event]), "markets": markets})


# -- the portfolio ------------------------------------------------------------------------


@routes.get(f"{BASE}/portfolio/balance")
@endpoint(auth=True)
async def get_balance(request: web.Request, who: str) -> web.StreamResponse:
    ex = _side(request).exchange
    account = ex.accounts[who]
    value = sum(p.cost for p in account.positions.values())
    return web.json_response({"balance": account.balance, "portfolio_value": value, "updated_ts": _now_ms() // 1000})


@routes.post(f"{BASE}/portfolio/orders")
@endpoint(auth=True, write=True)
async def create_order(request: web.Request, who: str) -> web.StreamResponse:
    fields = _order_fields(await request.read())
    order = _side(request).exchange.place(who, now_ms=_now_ms(), **fields)
    await _side(request).hub.changed(order.ticker)
    return web.json_response({"order": payloads.order(order)}, status=201)


@routes.delete(f"{BASE}/portfolio/orders/{{order_id}}")
@endpoint(auth=True, write=True)
async def cancel_order(request: web.Request, who: str) -> web.StreamResponse:
    order, reduced = _side(request).exchange.cancel(who, request.match_info["order_id"], _now_ms())
    await _side(request).hub.changed(order.ticker)
    return web.json_response({"order": payloads.order(order), "reduced_by": reduced})


@routes.get(f"{BASE}/portfolio/orders/{{order_id}}")
@endpoint(auth=True)
async def get_order(request: web.Request, who: str) -> web.StreamResponse:
    order = _side(request).exchange.orders.get(request.match_info["order_id"])
    if order is None or order.account != who:
        return kalshi_error(404, "not_found", f"no order {request.match_info['order_id']}")
    return web.json_response({"order": payloads.order(order)})


@routes.get(f"{BASE}/portfolio/orders")
@endpoint(auth=True)
async def list_orders(request: web.Request, who: str) -> web.StreamResponse:
    q = request.query
    mine = [o for o in _side(request).exchange.orders.values() if o.account == who
            and (not q.get("ticker") or o.ticker == q["ticker"]) and (not q.get("status") or o.status == q["status"])]
    page, cursor = _page(request, sorted(mine, key=lambda o: -o.seq))
    return web.json_response({"orders": [payloads.order(o) for o in page], "cursor": cursor})


@routes.get(f"{BASE}/portfolio/fills")
@endpoint(auth=True)
async def list_fills(request: web.Request, who: str) -> web.StreamResponse:
    q = request.query
    try:
        since_ms = int(q.get("min_ts") or 0) * 1000
    except ValueError:
        return kalshi_error(400, "invalid_parameters", "min_ts must be unix seconds")
    fills = [f for f in reversed(_side(request).exchange.accounts[who].fills)
             if (not q.get("ticker") or f.order.ticker == q["ticker"])
             and (not q.get("order_id") or f.order.order_id == q["order_id"]) and f.at_ms >= since_ms]
    page, cursor = _page(request, fills)
    return web.json_response({"fills": [payloads.fill(f) for f in page], "cursor": cursor})


@routes.get(f"{BASE}/portfolio/positions")
@endpoint(auth=True)
async def list_positions(request: web.Request, who: str) -> web.StreamResponse:
    ex = _side(request).exchange
    account = ex.accounts[who]
    resting = {t: sum(1 for o in b.orders() if o.account == who and o.status == RESTING) for t, b in ex.books.items()}
    held = [(t, p) for t, p in sorted(account.positions.items()) if p.count or resting.get(t)
            if not request.query.get("ticker") or t == request.query["ticker"]]
    page, cursor = _page(request, held)
    events: dict[str, list[Any]] = {}
    for ticker, p in page:
        events.setdefault(ex.markets[ticker].event_ticker, []).append(p)
    return web.json_response({"market_positions": [payloads.position(t, p, resting.get(t, 0)) for t, p in page],
                              "event_positions": [payloads.event_position(e, ps) for e, ps in events.items()],
                              "cursor": cursor})


@routes.get(f"{BASE}/portfolio/settlements")
@endpoint(auth=True)
async def list_settlements(request: web.Request, who: str) -> web.StreamResponse:
    page, cursor = _page(request, list(reversed(_side(request).exchange.accounts[who].settlements)))
    return web.json_response({"settlements": [payloads.settlement(s) for s in page], "cursor": cursor})


# -- what an order says -------------------------------------------------------------------


def _order_fields(raw: bytes) -> dict[str, Any]:
    """A CreateOrderRequest checked field by field, in YES terms; Refused (400) naming the field."""
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise Refused(400, "invalid_parameters", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "invalid_parameters", "the body must be a JSON object")
    for name in UNSUPPORTED:
        if body.get(name) not in (None, False):
            raise Refused(400, "invalid_parameters", f"{name} is not supported by the simulator")
    ticker, side, action = body.get("ticker"), body.get("side"), body.get("action")
    if not isinstance(ticker, str) or not ticker:
        raise Refused(400, "invalid_parameters", "ticker is required")
    if side not in ("yes", "no") or action not in ("buy", "sell"):
        raise Refused(400, "invalid_parameters", "side must be yes or no, action buy or sell")
    count = body.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise Refused(400, "invalid_parameters", "count must be a whole number of contracts, at least 1")
    order_type = body.get("type", "limit")
    if order_type not in ("limit", "market"):
        raise Refused(400, "invalid_parameters", "type must be limit or market")
    tif = body.get("time_in_force") or "good_till_canceled"
    stp = body.get("self_trade_prevention_type") or "taker_at_cross"
    if tif not in TIFS:
        raise Refused(400, "invalid_parameters", f"time_in_force must be one of {sorted(TIFS)}")
    if stp not in STP_KINDS:
        raise Refused(400, "invalid_parameters", f"self_trade_prevention_type must be one of {sorted(STP_KINDS)}")
    client_order_id = body.get("client_order_id") or ""
    if client_order_id and (not isinstance(client_order_id, str) or not CLIENT_ID.match(client_order_id)):
        raise Refused(400, "invalid_parameters", "client_order_id: at most 64 of letters, digits and -_:+=/")
    post_only = body.get("post_only", False)
    if not isinstance(post_only, bool):
        raise Refused(400, "invalid_parameters", "post_only must be true or false")
    yes_price = _yes_price(body, side, action, order_type)
    return {"ticker": ticker, "side": side, "action": action, "count": count, "yes_price": yes_price,
            "order_type": order_type, "tif": tif, "post_only": post_only, "stp": stp,
            "client_order_id": client_order_id}


def _yes_price(body: dict[str, Any], side: str, action: str, order_type: str) -> int:
    """The limit in YES cents from exactly one of yes_price, no_price, yes_price_dollars,
    no_price_dollars; a market order without one may trade at any price."""
    given = [(name, body[name]) for name in ("yes_price", "no_price", "yes_price_dollars", "no_price_dollars")
             if body.get(name) is not None]
    if not given:
        if order_type == "market":
            bids_yes = (side == "yes") == (action == "buy")
            return 99 if bids_yes else 1
        raise Refused(400, "invalid_parameters", "a limit order needs yes_price or no_price (cents 1-99)")
    if len(given) > 1:
        raise Refused(400, "invalid_parameters", "give one price: yes_price, no_price or their _dollars form")
    name, value = given[0]
    if name.endswith("_dollars"):
        match = DOLLARS.match(value) if isinstance(value, str) else None
        if match is None or match.group(1) == "00":
            raise Refused(400, "invalid_parameters", f"{name} must be 0.01-0.99 on the cent grid, e.g. \"0.4500\"")
        cents = int(match.group(1))
    else:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:
            raise Refused(400, "invalid_parameters", f"{name} must be a whole number of cents, 1-99")
        cents = value
    return cents if name.startswith("yes") else 100 - cents


# -- admin: what Kalshi's website does -----------------------------------------------------


@routes.post("/_sim/kalshi/api-keys")
async def register_key(request: web.Request) -> web.StreamResponse:
    """Register an RSA public key, as Kalshi's key page does: answers its id; its account (new
    unless `account` names one) starts funded."""
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("public_key"), str):
        return kalshi_error(400, "invalid_parameters", "send {\"public_key\": PEM}")
    side = _side(request)
    try:
        key = side.keys.register(body["public_key"], body.get("account"))
    except BadPublicKey as exc:
        return kalshi_error(400, "invalid_parameters", str(exc))
    account = side.exchange.open_account(key.account)
    return web.json_response({"api_key_id": key.key_id, "account": key.account, "balance": account.balance})


@routes.post("/_sim/kalshi/markets/{ticker}/settle")
async def settle_market(request: web.Request) -> web.StreamResponse:
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        body = None
    result = body.get("result") if isinstance(body, dict) else None
    try:
        done = _side(request).exchange.settle(request.match_info["ticker"], str(result), _now_ms())
    except Refused as exc:
        return _refused(exc)
    await _side(request).hub.changed(request.match_info["ticker"])
    return web.json_response({"settled": len(done), "result": result})


@routes.get("/trade-api/ws/v2")
async def websocket(request: web.Request) -> web.StreamResponse:
    return await _side(request).hub.handle(request)


@routes.post("/_sim/kalshi/ws/skip-seq")
async def skip_seq(request: web.Request) -> web.StreamResponse:
    """A fault: the next `count` book deltas each skip a sequence number (a message lost on the way)."""
    try:
        body = json.loads(await request.read() or b"{}")
        count = int(body.get("count", 1))
    except (ValueError, TypeError, AttributeError):
        return kalshi_error(400, "invalid_parameters", "send {\"count\": N}")
    _side(request).hub.skip_seq = max(0, count)
    return web.json_response({"skip_seq": _side(request).hub.skip_seq})
