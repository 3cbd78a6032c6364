"""Kalshi's portfolio and order routes as they answer today: the V2 order endpoints under
``/portfolio/events/orders`` (create, cancel, amend, decrease, and the batched create and cancel),
the reads (balance, orders, fills, positions (positions_list.py), settlements, the account's limits and its API keys),
and the retired V1 order endpoints, which answer HTTP 410 "Please switch to the V2 endpoints" and do
nothing.

The batched V2 endpoints (Batch Create / Batch Cancel Orders (V2)): `{"orders": [...]}`, each item
a V2 create body or `{"order_id", "market_ticker"?, "subaccount"?, "exchange_index"?}`; each item is
taken or refused on its own, in order, and answered in the same place (an order's counts, or its
`error` in Kalshi's envelope, `ts_ms` null): a refused item never undoes the others. The batch is
billed per item (http.py) and refused whole only when the request itself is: not JSON, no `orders`
list, an empty one, a cancel item without an `order_id`, or a pause (as a single request would be).

A V2 order, checked field by field as Kalshi's Create Order (V2) schema and Order Errors page say:
`ticker` (missing: `missing_parameters`), `side` `bid`|`ask`, `count` a fixed-point string of at
most 2 decimals (`invalid_order_size`), `price` a dollar string of at most 4 decimals on the
market's grid (`invalid_price`), `time_in_force` and `self_trade_prevention_type` required. The
fields of the retired shape (`type`, `action`, `yes_price`, ...) are refused: there is no market
order. What the simulator does not implement (order groups, reduce-only, expiring orders,
subaccounts) is refused by name rather than ignored.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from . import payloads, positions_list
from .exchange import Placement, Refused
from .http import BASE, endpoint, error, now_ms, page, routes, seconds, side_of, window
from .keys import restricted_to
from .orders import STP_KINDS, TIFS
from .shards import AUTO, AUTO_ROUTE_S, SHARDS, check_routed, shard_named
from .units import BadNumber, cents, count_in, dollars, dollars_in

CLIENT_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:+=/")
RETIRED_FIELDS = ("type", "action", "yes_price", "no_price", "yes_price_dollars", "no_price_dollars", "count_fp",
                  "buy_max_cost", "sell_position_floor", "expiration_ts")
UNSUPPORTED = ("reduce_only", "order_group_id", "expiration_time")
V2_LINK = "https://docs.kalshi.com/api-reference/orders/create-order-v2"


# -- the account ----------------------------------------------------------------------------


@endpoint("GET", "/portfolio/balance", auth=True)
async def get_balance(request: web.Request, who: str) -> Any:
    """Get Balance: every shard's together, or one shard's (`exchange_index`), and `balance_breakdown`, a
    fixed-point dollar balance per shard (IndexedBalance)."""
    ex = side_of(request).exchange
    account = ex.accounts[who]
    shard = shard_named(request.query.get("exchange_index"))
    if shard == AUTO:
        raise Refused(400, "invalid_parameters", "invalid parameters", "exchange_index: a shard's index")
    free = account.balance if shard is None else account.on(shard)
    value = sum(p.cost for t, p in account.positions.items() if shard is None or ex.markets[t].exchange_index == shard)
    return {"balance": cents(free), "balance_dollars": dollars(free), "portfolio_value": cents(value),
            "updated_ts": now_ms() // 1000,
            "balance_breakdown": [{"exchange_index": index, "balance": dollars(account.on(index))} for index in SHARDS]}


@endpoint("GET", "/account/limits", auth=True)
async def account_limits(request: web.Request, who: str) -> Any:
    side = side_of(request)
    read, write = side.buckets_of()
    return {"usage_tier": side.tier, "read": {"refill_rate": read[0], "bucket_capacity": read[1]},
            "write": {"refill_rate": write[0], "bucket_capacity": write[1]}, "grants": []}


@endpoint("GET", "/api_keys", auth=True)
async def api_keys(request: web.Request, who: str) -> Any:
    """The account's keys (their scopes and any subaccount restriction) and when its location
    attestation expires (omitted when it never attested)."""
    keys = side_of(request).keys
    caller = next(k for k in keys.keys.values() if k.key_id == request.headers.get("KALSHI-ACCESS-KEY"))
    body: dict[str, Any] = {"api_keys": [
        {"api_key_id": k.key_id, "name": k.name, "scopes": sorted(k.scopes),
         **({"subaccount": k.subaccount} if k.subaccount is not None else {})} for k in keys.of_parent(caller.parent)]}
    until = keys.attested_until.get(caller.parent)
    if until is not None:
        body["api_key_region_expiration_ts"] = until
    return body


@endpoint("GET", "/portfolio/orders", auth=True)
async def list_orders(request: web.Request, who: str) -> Any:
    q = request.query
    low, shard = seconds(request, "min_ts"), positions_list._shard(q.get("exchange_index"))
    mine = [o for o in side_of(request).exchange.orders.values() if o.account == who
            and (not q.get("ticker") or o.ticker == q["ticker"]) and (not q.get("status") or o.status == q["status"])
            and (low is None or o.updated_ms >= low * 1000) and (shard is None or o.shard == shard)]
    items, cursor = page(request, sorted(mine, key=lambda o: -o.seq))
    return {"orders": [payloads.order(o) for o in items], "cursor": cursor}


@endpoint("GET", "/portfolio/orders/{order_id}", auth=True)
async def get_order(request: web.Request, who: str) -> Any:
    return {"order": payloads.order(side_of(request).exchange.own_order(who, request.match_info["order_id"]))}


@endpoint("GET", "/portfolio/fills", auth=True)
async def list_fills(request: web.Request, who: str) -> Any:
    q = request.query
    within, shard = window(request), positions_list._shard(q.get("exchange_index"))
    fills = [f for f in reversed(side_of(request).exchange.accounts[who].fills)
             if (not q.get("ticker") or f.order.ticker == q["ticker"])
             and (not q.get("order_id") or f.order.order_id == q["order_id"]) and within(f.at_ms)
             and (shard is None or f.order.shard == shard)]
    items, cursor = page(request, fills)
    return {"fills": [payloads.fill(f) for f in items], "cursor": cursor}


@endpoint("GET", "/portfolio/positions", auth=True)
async def list_positions(request: web.Request, who: str) -> Any:
    side = side_of(request)
    items, cursor = positions_list.listed(request, side.exchange, who, now_ms() - side.history_lag_ms)
    return positions_answer(side.exchange, items, cursor)


def positions_answer(ex: Any, items: list[tuple[str, Any]], cursor: str) -> dict[str, Any]:
    """GetPositionsResponse: the market positions (each with its market's shard) and their events'."""
    events: dict[str, list[Any]] = {}
    for t, p in items:
        events.setdefault(ex.markets[t].event_ticker, []).append(p)
    return {"market_positions": [payloads.position(t, p, ex.markets[t].exchange_index) for t, p in items],
            "event_positions": [payloads.event_position(e, ps) for e, ps in events.items()], "cursor": cursor}


@endpoint("GET", "/portfolio/settlements", auth=True)
async def list_settlements(request: web.Request, who: str) -> Any:
    within = window(request)
    chosen = [s for s in reversed(side_of(request).exchange.accounts[who].settlements) if within(s.at_ms)]
    items, cursor = page(request, chosen)
    return {"settlements": [payloads.settlement(s) for s in items], "cursor": cursor}


# -- V2 orders ---------------------------------------------------------------------------------


@endpoint("POST", "/portfolio/events/orders", auth=True, write=True, status=201)
async def create_order(request: web.Request, who: str) -> Any:
    placement = parse_order(await _body(request), restricted_to(who))
    side = side_of(request)
    side.lifecycle.check_write(now_ms(), cancel=False)
    await _route(side.exchange.market(placement.ticker).exchange_index, placement.exchange_index, placement.ticker)
    side.location_refusal(who, placement.ticker, now_ms())
    order, fills = side.exchange.place(who, placement, now_ms())
    return payloads.placed(order, fills, now_ms())


@endpoint("POST", "/portfolio/events/orders/batched", auth=True, write=True, status=201)
async def batch_create(request: web.Request, who: str) -> Any:
    items = _batch(await _body(request))
    side = side_of(request)
    side.lifecycle.check_write(now_ms(), cancel=False)
    answered = []
    for item in items:
        client_id = item.get("client_order_id") if isinstance(item, dict) else None
        try:
            if not isinstance(item, dict):
                raise Refused(400, "bad_request", "bad request", "each order must be a JSON object")
            placement = parse_order(item, restricted_to(who))
            await _route(side.exchange.market(placement.ticker).exchange_index, placement.exchange_index,
                         placement.ticker)
            side.location_refusal(who, placement.ticker, now_ms())
            order, fills = side.exchange.place(who, placement, now_ms())
            answered.append(payloads.placed(order, fills, now_ms(), batch=True))
        except Refused as exc:
            answered.append(payloads.batch_refused(exc, client_id if isinstance(client_id, str) else None))
    return {"orders": answered}


@endpoint("DELETE", "/portfolio/events/orders/batched", auth=True, write=True)
async def batch_cancel(request: web.Request, who: str) -> Any:
    items = _batch(await _body(request))
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("order_id"), str) or not item["order_id"]:
            raise Refused(400, "missing_parameters", "missing parameters", f"orders[{n}]: order_id is required")
        _subaccount(item.get("subaccount"), restricted_to(who))
        shard_named(item.get("exchange_index"), f"orders[{n}].exchange_index")
    side = side_of(request)
    side.lifecycle.check_write(now_ms(), cancel=True)
    answered: list[dict[str, Any]] = []
    for item in items:
        try:
            target = side.exchange.own_order(who, item["order_id"])
            await _route(target.shard, shard_named(item.get("exchange_index")), target.ticker)
            side.location_refusal(who, target.ticker, now_ms())
            order, reduced = side.exchange.cancel(who, item["order_id"], now_ms())
            answered.append({"order_id": order.order_id, "client_order_id": order.client_order_id,
                             "reduced_by": payloads.count(reduced), "ts_ms": now_ms()})
        except Refused as exc:
            mine = side.exchange.orders.get(item["order_id"])
            client_id = mine.client_order_id if mine is not None and mine.account == who else None
            answered.append({"order_id": item["order_id"], "client_order_id": client_id,
                             "reduced_by": payloads.count(0), "ts_ms": None,
                             "error": payloads.error_body(exc)})
    return {"orders": answered}


def _batch(body: dict[str, Any]) -> list[Any]:
    orders = body.get("orders")
    if not isinstance(orders, list):
        raise Refused(400, "missing_parameters", "missing parameters", "orders (a list) is required")
    if not orders:
        raise Refused(400, "invalid_parameters", "invalid parameters", "orders is empty")
    return orders


@endpoint("DELETE", "/portfolio/events/orders/{order_id}", auth=True, write=True)
async def cancel_order(request: web.Request, who: str) -> Any:
    side = side_of(request)
    side.lifecycle.check_write(now_ms(), cancel=True)
    mine = side.exchange.own_order(who, request.match_info["order_id"])
    await _route(mine.shard, shard_named(request.query.get("exchange_index")), mine.ticker)
    side.location_refusal(who, mine.ticker, now_ms())
    order, reduced = side.exchange.cancel(who, request.match_info["order_id"], now_ms())
    return {"order_id": order.order_id, "client_order_id": order.client_order_id, "reduced_by": payloads.count(reduced),
            "ts_ms": now_ms()}


@endpoint("POST", "/portfolio/events/orders/{order_id}/amend", auth=True, write=True)
async def amend_order(request: web.Request, who: str) -> Any:
    body = await _body(request)
    ticker, book_side = body.get("ticker"), body.get("side")
    if not isinstance(ticker, str) or not ticker:
        raise Refused(400, "missing_parameters", "missing parameters", "ticker is required")
    if book_side not in ("bid", "ask"):
        raise Refused(400, "invalid_order", "invalid order", "side must be bid or ask")
    price, count = _price(body.get("price")), _count(body.get("count"))
    side = side_of(request)
    side.lifecycle.check_write(now_ms(), cancel=False)
    mine = side.exchange.own_order(who, request.match_info["order_id"])
    await _route(mine.shard, shard_named(body.get("exchange_index")), mine.ticker)
    side.location_refusal(who, mine.ticker, now_ms())
    order, fills = side.exchange.amend(who, request.match_info["order_id"], ticker, book_side, price, count, now_ms())
    return payloads.placed(order, fills, now_ms())


@endpoint("POST", "/portfolio/events/orders/{order_id}/decrease", auth=True, write=True)
async def decrease_order(request: web.Request, who: str) -> Any:
    body = await _body(request)
    by, to = body.get("reduce_by"), body.get("reduce_to")
    if (by is None) == (to is None):
        raise Refused(400, "invalid_parameters", "invalid parameters", "exactly one of reduce_by or reduce_to")
    side = side_of(request)
    side.lifecycle.check_write(now_ms(), cancel=False)
    order = side.exchange.own_order(who, request.match_info["order_id"])
    await _route(order.shard, shard_named(body.get("exchange_index")), order.ticker)
    side.location_refusal(who, order.ticker, now_ms())
    target = _count(to, zero=True) if to is not None else order.remaining - _count(by)
    order = side.exchange.decrease(who, order.order_id, target, now_ms())
    return {"order_id": order.order_id, "client_order_id": order.client_order_id,
            "remaining_count": payloads.count(order.remaining), "ts_ms": now_ms()}


async def _route(shard: int, asked: int | None, ticker: str) -> None:
    """A request routed as shards.py reads Kalshi's documents: refused when it reaches another shard than
    its market's, slower when Kalshi routes it by its ticker."""
    check_routed(asked, shard, ticker)
    if asked == AUTO:
        await asyncio.sleep(AUTO_ROUTE_S)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        raise Refused(400, "bad_request", "bad request", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "bad_request", "bad request", "the body must be a JSON object")
    return body


def _price(raw: object) -> int:
    if raw is None:
        raise Refused(400, "invalid_order", "invalid order", "price is required")
    try:
        return dollars_in(raw, 4)
    except BadNumber as exc:
        raise Refused(400, "invalid_price", "invalid price", f"price: {exc}") from None


def _count(raw: object, *, zero: bool = False) -> int:
    if raw is None:
        raise Refused(400, "invalid_order", "invalid order", "count is required")
    try:
        value = count_in(raw)
    except BadNumber as exc:
        raise Refused(400, "invalid_order_size", "invalid order size", f"count: {exc}") from None
    if value < 0 or (value == 0 and not zero):
        raise Refused(400, "invalid_order_size", "invalid order size", "count must be at least 0.01")
    return value


def _subaccount(named: object, restricted: int | None) -> None:
    """A `subaccount` a request names: a subaccount-restricted key may omit it or pass its own (anything
    else is refused, 403); an unrestricted key trades the primary account (0) here."""
    if named is None:
        return
    if restricted is not None:
        if named != restricted:
            raise Refused(403, "forbidden", "this API key is restricted to another subaccount",
                          f"the key trades subaccount {restricted} only: omit subaccount or pass it")
        return
    if named != 0:
        raise Refused(400, "invalid_parameters", "invalid parameters", "subaccounts are not supported by the simulator")


def parse_order(body: dict[str, Any], restricted: int | None = None) -> Placement:
    for name in RETIRED_FIELDS:
        if name in body:
            raise Refused(400, "invalid_order", "invalid order", f"{name} is not a field of a V2 order")
    for name in UNSUPPORTED:
        if body.get(name) not in (None, False):
            raise Refused(400, "invalid_parameters", "invalid parameters", f"{name} is not supported by the simulator")
    _subaccount(body.get("subaccount"), restricted)
    ticker = body.get("ticker")
    if not isinstance(ticker, str) or not ticker:
        raise Refused(400, "missing_parameters", "missing parameters", "ticker is required")
    book_side = body.get("side")
    if book_side not in ("bid", "ask"):
        raise Refused(400, "invalid_order", "invalid order", "side must be bid or ask")
    count, price = _count(body.get("count")), _price(body.get("price"))
    tif, stp = body.get("time_in_force"), body.get("self_trade_prevention_type")
    if tif not in TIFS:
        raise Refused(400, "invalid_order", "invalid order", f"time_in_force is required: one of {', '.join(TIFS)}")
    if stp not in STP_KINDS:
        raise Refused(400, "invalid_order", "invalid order",
                      f"self_trade_prevention_type is required: one of {', '.join(STP_KINDS)}")
    client_id = body.get("client_order_id") or ""
    if not isinstance(client_id, str) or len(client_id) > 64 or not set(client_id) <= CLIENT_ID:
        raise Refused(400, "invalid_order", "invalid order", "client_order_id: at most 64 of letters, digits, -_:+=/")
    flags = {name: body.get(name, False) for name in ("post_only", "cancel_order_on_pause")}
    if any(not isinstance(v, bool) for v in flags.values()):
        raise Refused(400, "bad_request", "bad request", "post_only and cancel_order_on_pause must be true or false")
    if flags["post_only"] and tif != "good_till_canceled":
        raise Refused(400, "invalid_order", "invalid order", "post only orders must rest (good_till_canceled)")
    return Placement(ticker, book_side, price, count, tif, stp, client_id, flags["post_only"],
                     flags["cancel_order_on_pause"], shard_named(body.get("exchange_index")))


# -- the retired V1 order endpoints ---------------------------------------------------------------


async def _retired(request: web.Request) -> web.StreamResponse:
    side = side_of(request)
    side.retired_calls += 1
    answer = error(410, "deprecated_v1_order_endpoint", "Please switch to the V2 endpoints", V2_LINK)
    side.observe(request.method, "(retired)", 410, answer.text)
    return answer


RETIRED = (("POST", "/portfolio/orders"), ("DELETE", "/portfolio/orders/{order_id}"),
           ("POST", "/portfolio/orders/{order_id}/amend"), ("POST", "/portfolio/orders/{order_id}/decrease"),
           ("POST", "/portfolio/orders/batched"), ("DELETE", "/portfolio/orders/batched"))
for _method, _path in RETIRED:
    routes.route(_method, BASE + _path)(_retired)
