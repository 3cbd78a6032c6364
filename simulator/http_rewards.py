"""The CLOB's liquidity-reward routes (rewards.py holds the programs and the scores).

Public:
- ``GET /rewards/markets/current[?next_cursor]``: the open program markets, paginated
  (``condition_id, rewards_max_spread`` in cents, ``rewards_min_size`` in shares,
  ``rewards_config[{asset_address, start_date, end_date, rate_per_day, total_rewards}]``,
  ``native_daily_rate``, ``total_daily_rate``, ...);
- ``GET /rewards/markets/{condition_id}[?next_cursor]``: that market with its program (an empty
  page when it runs none).

L2-authenticated (py-clob-client-v2's ``is_order_scoring``, ``are_orders_scoring``,
``get_earnings_for_user_for_day``, ``get_total_earnings_for_user_for_day``):
- ``GET /order-scoring?order_id=`` -> ``{"scoring": bool}``;
- ``POST /orders-scoring`` with a JSON list of order ids -> ``{order_id: bool}`` (at most 1000
  ids); an order of another account, or unknown, is not scoring;
- ``GET /rewards/user?date=YYYY-MM-DD&signature_type=N[&next_cursor]``: the wallet's paid
  earnings of that day by market, paginated; ``GET /rewards/user/total?date=&signature_type=``:
  summed (a list, empty when nothing was paid).
"""

from __future__ import annotations

import re

from aiohttp import web

from .http_trading import _l2, funded_address
from .httputil import SIM_KEY, HttpError, ok, page, parse_json

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_SCORING_IDS = 1000
routes = web.RouteTableDef()


@routes.get("/rewards/markets/current")
async def current_rewards(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    return ok(page(sim.rewards.current_json(), request.query.get("next_cursor"), 500))


@routes.get("/rewards/markets/{condition_id}")
async def market_rewards(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    rows = sim.rewards.market_json(request.match_info["condition_id"].lower())
    return ok(page(rows, request.query.get("next_cursor"), 500))


def _scoring(request: web.Request, api_key: str, order_id: str) -> bool:
    sim = request.app[SIM_KEY]
    order = sim.exchange.orders.get(order_id)
    return order is not None and order.owner == api_key and sim.rewards.is_scoring(order)


@routes.get("/order-scoring")
async def order_scoring(request: web.Request) -> web.Response:
    creds, _ = await _l2(request)
    order_id = request.query.get("order_id", "")
    if not order_id:
        raise HttpError(400, "order_id is required")
    return ok({"scoring": _scoring(request, creds.api_key, order_id)})


@routes.post("/orders-scoring")
async def orders_scoring(request: web.Request) -> web.Response:
    creds, body = await _l2(request)
    ids = parse_json(body)
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise HttpError(400, "expected a JSON list of order ids")
    if len(ids) > MAX_SCORING_IDS:
        raise HttpError(400, f"at most {MAX_SCORING_IDS} order ids per request")
    return ok({i: _scoring(request, creds.api_key, i) for i in ids})


def _day(request: web.Request) -> str:
    day = request.query.get("date", "")
    if not DATE.match(day):
        raise HttpError(400, "Invalid date")
    return day


@routes.get("/rewards/user")
async def user_earnings(request: web.Request) -> web.Response:
    creds, _ = await _l2(request)
    sim = request.app[SIM_KEY]
    rows = sim.rewards.earnings(_day(request), funded_address(request, creds))
    return ok(page(rows, request.query.get("next_cursor"), sim.cfg.page_size))


@routes.get("/rewards/user/total")
async def user_total_earnings(request: web.Request) -> web.Response:
    creds, _ = await _l2(request)
    return ok(request.app[SIM_KEY].rewards.total_earnings(_day(request), funded_address(request, creds)))
