"""Authenticated CLOB routes: API keys (L1), orders, cancels, queries, balances,
heartbeats (L2)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from aiohttp import web

from .auth import ApiCreds, AuthError
from .exchange import OrderRejected, PlaceResult
from .heartbeats import InvalidHeartbeat
from .httputil import SIM_KEY, HttpError, ok, page, parse_json, query_int
from .maintenance import POST_ONLY, POST_ONLY_MODE_ERROR
from .orders import open_order_json
from .signer_limits import CANCEL, ORDER, Verdict, refused
from .trades import Trade, trade_json
from .units import fmt
from .validation import parse_order

ORDER_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")
routes = web.RouteTableDef()


async def _l2(request: web.Request) -> tuple[ApiCreds, bytes]:
    body = await request.read()
    try:
        creds = request.app[SIM_KEY].auth.check_l2(request.method, request.path, body, request.headers)
    except AuthError as exc:
        raise HttpError(exc.status, exc.message) from None
    return creds, body


def _l1(request: web.Request) -> tuple[str, int]:
    try:
        return request.app[SIM_KEY].auth.check_l1(request.headers)
    except AuthError as exc:
        raise HttpError(exc.status, exc.message) from None


@routes.post("/auth/api-key")
async def create_api_key(request: web.Request) -> web.Response:
    address, nonce = _l1(request)
    creds = request.app[SIM_KEY].auth.create(address, nonce)
    if creds is None:
        raise HttpError(400, "Could not create api key")
    return ok(creds.as_json())


@routes.get("/auth/derive-api-key")
async def derive_api_key(request: web.Request) -> web.Response:
    address, nonce = _l1(request)
    return ok(request.app[SIM_KEY].auth.derive(address, nonce).as_json())


@routes.get("/auth/api-keys")
async def get_api_keys(request: web.Request) -> web.Response:
    creds, _ = await _l2(request)
    return ok({"apiKeys": request.app[SIM_KEY].auth.keys_for(creds.address)})


@routes.delete("/auth/api-key")
async def delete_api_key(request: web.Request) -> web.Response:
    creds, _ = await _l2(request)
    request.app[SIM_KEY].auth.delete(creds)
    return ok("OK")


@routes.get("/auth/ban-status/closed-only")
async def closed_only(request: web.Request) -> web.Response:
    await _l2(request)
    return ok({"closed_only": False})


def _response(result: PlaceResult) -> dict[str, Any]:
    order, trade = result.order, result.trade
    filled = order.matched > 0 and not result.delayed
    return {
        "success": True,
        "errorMsg": "",
        "orderID": order.id,
        # A delayed order (sports market) carries no fills: they come later, on the user channel.
        "status": "delayed" if result.delayed else "matched" if filled else "live",
        "makingAmount": fmt(result.making) if filled else "",
        "takingAmount": fmt(result.taking) if filled else "",
        # Since 2026-07 settlement is asynchronous: a match answers its trades' ids and no hash (the
        # hash shows on the trade once its transaction is out: trades.py `public_hash`).
        "transactionsHashes": [],
        "tradeIDs": [trade.id] if trade else [],
    }


def _refusal(exc: OrderRejected) -> dict[str, Any]:
    """A refused order inside a 200 answer: a batch item, or a refusal the venue gives that way
    (``success`` stays true there: only the empty ``orderID`` and the ``errorMsg`` say no)."""
    return {"success": exc.in_body, "errorMsg": exc.message, "orderID": "", "status": "", "makingAmount": "",
            "takingAmount": "", "transactionsHashes": [], "tradeIDs": []}


IN_BODY_FAULT = "the order could not be processed, please try again"


def _place(request: web.Request, creds: ApiCreds, item: Any) -> dict[str, Any]:
    sim = request.app[SIM_KEY]
    if sim.faults.roll(sim.faults.config.refuse_in_body_rate):
        sim.faults.stats["refused_in_body"] += 1
        raise OrderRejected(IN_BODY_FAULT, in_body=True)
    order = parse_order(item, creds, sim.exchange, sim.cfg.gtd_buffer_s, sim.cfg.allow_eoa_makers,
                        sim.cfg.gtd_min_lead_s)
    if not order.post_only and sim.maintenance.phase() == POST_ONLY:
        raise OrderRejected(POST_ONLY_MODE_ERROR)
    unapproved = sim.approvals.refusal(order, sim.ledger.requirement(order))
    if unapproved is not None:
        raise OrderRejected(unapproved)
    result = sim.exchange.place(order)
    wire = item["order"]
    if wire["maker"].lower() != creds.address:  # a funder (proxy, Safe or deposit wallet) trades for the key
        sim.funders[(creds.address, int(wire["signatureType"]))] = wire["maker"].lower()
    return _response(result)


def _charge(request: web.Request, creds: ApiCreds, kind: str, cost: int) -> Verdict:
    return request.app[SIM_KEY].signer_limits.charge(creds.address, kind, cost)


@routes.post("/order")
async def post_order(request: web.Request) -> web.Response:
    started = time.perf_counter()
    creds, body = await _l2(request)
    verdict = _charge(request, creds, ORDER, 1)
    if not verdict.admitted:
        return refused(verdict)
    try:
        response = ok(_place(request, creds, parse_json(body, "Invalid order payload")))
    except OrderRejected as exc:
        if not exc.in_body:
            raise HttpError(exc.status, exc.message) from None
        response = ok(_refusal(exc))
    # Auth + signature recovery + matching + response, for /_sim/state and benchmarks.
    request.app[SIM_KEY].order_latency.append(time.perf_counter() - started)
    response.headers.update(verdict.headers)
    return response


@routes.post("/orders")
async def post_orders(request: web.Request) -> web.Response:
    creds, body = await _l2(request)
    items = parse_json(body, "Invalid order payload")
    limit = request.app[SIM_KEY].cfg.max_batch
    if not isinstance(items, list) or not items:
        raise HttpError(400, "Invalid order payload")
    if len(items) > limit:
        raise HttpError(400, f"Too many orders in payload: {len(items)}, max allowed: {limit}")
    verdict = _charge(request, creds, ORDER, len(items))  # all or nothing
    if not verdict.admitted:
        return refused(verdict)
    out = []
    for item in items:
        try:
            out.append(_place(request, creds, item))
        except OrderRejected as exc:
            out.append(_refusal(exc))
    response = ok(out)
    response.headers.update(verdict.headers)
    return response


def _cancel_response(canceled: list[str], not_canceled: dict[str, str], headers: dict[str, str]) -> web.Response:
    response = ok({"canceled": canceled, "not_canceled": not_canceled})
    response.headers.update(headers)
    return response


def _cancel_targets(request: web.Request, creds: ApiCreds, targets: list[Any]) -> web.Response:
    """Cancel-all and cancel-market-orders: 1 cancel token up front, then one per order cancelled."""
    verdict = _charge(request, creds, CANCEL, 1)
    if not verdict.admitted:
        return refused(verdict)
    canceled = request.app[SIM_KEY].exchange.cancel(targets)
    headers = request.app[SIM_KEY].signer_limits.debit(creds.address, CANCEL, len(canceled)) or verdict.headers
    return _cancel_response(canceled, {}, headers)


@routes.delete("/order")
async def cancel_order(request: web.Request) -> web.Response:
    creds, body = await _l2(request)
    data = parse_json(body, "Invalid order payload")
    order_id = data.get("orderID") if isinstance(data, dict) else None
    if not isinstance(order_id, str) or not ORDER_ID.match(order_id):
        raise HttpError(400, "Invalid orderID")
    verdict = _charge(request, creds, CANCEL, 1)
    if not verdict.admitted:
        return refused(verdict)
    canceled, not_canceled = request.app[SIM_KEY].exchange.cancel_ids(creds.api_key, [order_id])
    return _cancel_response(canceled, not_canceled, verdict.headers)


@routes.delete("/orders")
async def cancel_orders(request: web.Request) -> web.Response:
    creds, body = await _l2(request)
    ids = parse_json(body, "Invalid order payload")
    if not isinstance(ids, list) or not all(isinstance(i, str) and ORDER_ID.match(i) for i in ids):
        raise HttpError(400, "Invalid orderID")
    limit = request.app[SIM_KEY].cfg.cancel_batch_limit
    if len(ids) > limit:
        raise HttpError(400, f"Too many orders in payload, max allowed: {limit}")
    verdict = _charge(request, creds, CANCEL, len(ids))
    if not verdict.admitted:
        return refused(verdict)
    canceled, not_canceled = request.app[SIM_KEY].exchange.cancel_ids(creds.api_key, ids)
    return _cancel_response(canceled, not_canceled, verdict.headers)


@routes.delete("/cancel-all")
async def cancel_all(request: web.Request) -> web.Response:
    creds, _ = await _l2(request)
    return _cancel_targets(request, creds, request.app[SIM_KEY].exchange.open_orders(creds.api_key))


@routes.delete("/cancel-market-orders")
async def cancel_market_orders(request: web.Request) -> web.Response:
    creds, body = await _l2(request)
    data = parse_json(body, "Invalid order payload") or {}
    if not isinstance(data, dict):
        raise HttpError(400, "Invalid order payload")
    market, asset = data.get("market") or "", data.get("asset_id") or ""
    targets = [o for o in request.app[SIM_KEY].exchange.open_orders(creds.api_key)
               if (not market or o.market.condition_id == market)
               and (not asset or o.token.token_id == asset)]
    return _cancel_targets(request, creds, targets)


@routes.get("/data/orders")
async def get_orders(request: web.Request) -> web.Response:
    creds, _ = await _l2(request)
    sim = request.app[SIM_KEY]
    q = request.query
    orders = [o for o in sim.exchange.open_orders(creds.api_key)
              if (not q.get("market") or o.market.condition_id == q["market"])
              and (not q.get("asset_id") or o.token.token_id == q["asset_id"])
              and (not q.get("id") or o.id == q["id"])]
    return ok(page([open_order_json(o) for o in orders], q.get("next_cursor"), sim.cfg.page_size))


@routes.get("/data/order/{order_id}")
async def get_order(request: web.Request) -> web.Response:
    creds, _ = await _l2(request)
    order = request.app[SIM_KEY].exchange.orders.get(request.match_info["order_id"])
    # Like the venue, only orders still working (resting, or waiting out a sports delay) are
    # known here: one filled or cancelled is forgotten (its trades stay in /data/trades), and a
    # taker done on arrival was never known.
    if order is None or order.owner != creds.api_key or not order.is_open:
        return ok(None)
    return ok(open_order_json(order))


def _trade_matches(trade: Trade, request: web.Request) -> bool:
    q = request.query
    after, before = query_int(request, "after"), query_int(request, "before")
    addr = q.get("maker_address", "").lower()
    return ((not q.get("id") or trade.id == q["id"])
            and (not q.get("market") or trade.market.condition_id == q["market"])
            and (not q.get("asset_id") or q["asset_id"] in {trade.taker.token.token_id}
                 | {leg.order.token.token_id for leg in trade.makers})
            and (after is None or trade.match_time > after)
            and (before is None or trade.match_time < before)
            and (not addr or addr in {trade.taker.maker_address.lower()}
                 | {leg.order.maker_address.lower() for leg in trade.makers}))


@routes.get("/data/trades")
async def get_trades(request: web.Request) -> web.Response:
    creds, _ = await _l2(request)
    sim = request.app[SIM_KEY]
    trades = [trade_json(t, creds.api_key) for t in sim.trades.for_owner(creds.api_key)
              if _trade_matches(t, request)]
    return ok(page(trades, request.query.get("next_cursor"), sim.cfg.page_size))


@routes.get("/data/pre-migration-orders")
async def get_pre_migration_orders(request: web.Request) -> web.Response:
    await _l2(request)
    return ok(page([], request.query.get("next_cursor"), request.app[SIM_KEY].cfg.page_size))


def funded_address(request: web.Request, creds: ApiCreds) -> str:
    sig_type = query_int(request, "signature_type") or 0
    if sig_type not in (0, 1, 2, 3):
        raise HttpError(400, "Invalid signature_type")
    if sig_type == 0:
        return creds.address
    return request.app[SIM_KEY].funders.get((creds.address, sig_type), creds.address)


@routes.get("/v1/user/rate-limit-tier")
async def rate_limit_tier(request: web.Request) -> web.Response:
    """The per-signer rate-limit tier of the key's signer (the venue's reference shows no example
    answer: `{"tier": name}` here; the desk reads the likely spellings)."""
    await _l2(request)
    return ok({"tier": request.app[SIM_KEY].signer_limits.tier.name})


@routes.get("/balance-allowance")
@routes.get("/balance-allowance/update")
async def get_balance_allowance(request: web.Request) -> web.Response:
    creds, _ = await _l2(request)
    sim = request.app[SIM_KEY]
    acct = sim.ledger.account(funded_address(request, creds))
    asset_type = request.query.get("asset_type", "COLLATERAL").upper()
    if asset_type == "COLLATERAL":
        balance = acct.pusd
    elif asset_type in ("CONDITIONAL", "CONDITIONAL-V2"):
        token_id = request.query.get("token_id", "")
        market = sim.exchange.market_for_token(token_id)
        if market is None:
            raise HttpError(400, "Invalid token id")
        if market.protocol_v2 != (asset_type == "CONDITIONAL-V2"):  # a V2 position is CONDITIONAL-V2 only
            raise HttpError(400, "Invalid asset type")
        balance = acct.token(token_id)
    else:
        raise HttpError(400, "Invalid asset type")
    # Like the venue: only what this wallet approved; no `allowances` key at all before any approval.
    allowances = sim.approvals.report(acct.address, asset_type)
    return ok({"balance": str(balance), **({"allowances": allowances} if allowances else {})})


@routes.post("/v1/heartbeats")
async def post_heartbeat(request: web.Request) -> web.Response:
    creds, body = await _l2(request)
    data = parse_json(body) or {}
    hb_id = data.get("heartbeat_id") if isinstance(data, dict) else None
    sim = request.app[SIM_KEY]
    try:
        sent = hb_id if isinstance(hb_id, str) else "" if hb_id is None else json.dumps(hb_id)
        new_id = sim.heartbeats.beat(creds.api_key, sent)
    except InvalidHeartbeat as exc:
        return web.Response(status=400, content_type="application/json",
                            text=json.dumps({"error_msg": str(exc), "heartbeat_id": exc.expected}))
    if sim.faults.roll(sim.faults.config.heartbeat_drop_rate):
        # Processed (the chain moved on, the deadline too), but the answer never arrives.
        sim.heartbeats.answer_dropped(creds.api_key)
        if request.transport is not None:
            request.transport.abort()
    return ok({"heartbeat_id": new_id})


@routes.get("/notifications")
async def get_notifications(request: web.Request) -> web.Response:
    await _l2(request)
    return ok([])
