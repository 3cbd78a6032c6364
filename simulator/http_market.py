"""Public (L0) CLOB routes: health, books, prices, market metadata, price history."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .history import HistoryError
from .httputil import SIM_KEY, HttpError, ok, page, parse_json, query_int
from .market_payloads import book_summary, last_trade_price, now_ms
from .markets import Market, Token
from .units import as_float, fmt
from .views import clob_market, clob_market_info, quote, simplified_market

NO_BOOK = "No orderbook exists for the requested token id"
BATCH_LIMIT = 500
routes = web.RouteTableDef()


def _lookup(request: web.Request, token_id: str | None, missing: str = NO_BOOK) -> tuple[Market, Token]:
    if not token_id:
        raise HttpError(400, "Invalid token id")
    market = request.app[SIM_KEY].exchange.market_for_token(token_id)
    if market is None:
        raise HttpError(404, missing)
    return market, market.token(token_id)


async def _batch(request: web.Request) -> list[dict[str, Any]]:
    body = parse_json(await request.read())
    if not isinstance(body, list) or not all(isinstance(i, dict) and i.get("token_id") for i in body):
        raise HttpError(400, "Invalid payload")
    if len(body) > BATCH_LIMIT:
        raise HttpError(400, "Payload exceeds the limit")
    return body


def _book(request: web.Request, market: Market) -> Any:
    return request.app[SIM_KEY].exchange.books[market.condition_id]


@routes.get("/")
@routes.get("/ok")
async def get_ok(request: web.Request) -> web.Response:
    return ok("OK")


@routes.get("/time")
async def get_time(request: web.Request) -> web.Response:
    return ok(int(time.time()))


@routes.get("/version")
async def get_version(request: web.Request) -> web.Response:
    return ok({"version": 2})  # must be an int: the client refuses "2"


@routes.get("/book")
async def get_book(request: web.Request) -> web.Response:
    market, token = _lookup(request, request.query.get("token_id"))
    return ok(book_summary(market, token, _book(request, market), now_ms()))


@routes.post("/books")
async def post_books(request: web.Request) -> web.Response:
    out = []
    for item in await _batch(request):
        market, token = _lookup(request, str(item["token_id"]))
        out.append(book_summary(market, token, _book(request, market), now_ms()))
    return ok(out)


@routes.get("/midpoint")
async def get_midpoint(request: web.Request) -> web.Response:
    market, token = _lookup(request, request.query.get("token_id"))
    return ok({"mid": fmt(quote(_book(request, market), token)[2])})


@routes.post("/midpoints")
async def post_midpoints(request: web.Request) -> web.Response:
    out = {}
    for item in await _batch(request):
        market, token = _lookup(request, str(item["token_id"]))
        out[token.token_id] = fmt(quote(_book(request, market), token)[2])
    return ok(out)


def _side_price(request: web.Request, market: Market, token: Token, side: str) -> str:
    # Live quirk kept on purpose: BUY returns the best bid, SELL the best ask.
    bid, ask, _, _ = quote(_book(request, market), token)
    return fmt(bid if side == "BUY" else ask)


@routes.get("/price")
async def get_price(request: web.Request) -> web.Response:
    market, token = _lookup(request, request.query.get("token_id"))
    side = request.query.get("side", "").upper()
    if side not in ("BUY", "SELL"):
        raise HttpError(400, "Invalid side")
    return ok({"price": _side_price(request, market, token, side)})


@routes.post("/prices")
async def post_prices(request: web.Request) -> web.Response:
    out: dict[str, dict[str, str]] = {}
    for item in await _batch(request):
        market, token = _lookup(request, str(item["token_id"]))
        side = str(item.get("side", "")).upper()
        if side and side not in ("BUY", "SELL"):
            raise HttpError(400, "Invalid side")
        sides = [side] if side else ["BUY", "SELL"]
        entry = out.setdefault(token.token_id, {})
        for s in sides:
            entry[s] = _side_price(request, market, token, s)
    return ok(out)


@routes.get("/spread")
async def get_spread(request: web.Request) -> web.Response:
    market, token = _lookup(request, request.query.get("token_id"))
    return ok({"spread": fmt(quote(_book(request, market), token)[3])})


@routes.post("/spreads")
async def post_spreads(request: web.Request) -> web.Response:
    out = {}
    for item in await _batch(request):
        market, token = _lookup(request, str(item["token_id"]))
        out[token.token_id] = fmt(quote(_book(request, market), token)[3])
    return ok(out)


@routes.get("/tick-size")
async def get_tick_size(request: web.Request) -> web.Response:
    market, _ = _lookup(request, request.query.get("token_id"), "market not found")
    return ok({"minimum_tick_size": as_float(market.tick)})


@routes.get("/neg-risk")
async def get_neg_risk(request: web.Request) -> web.Response:
    market, _ = _lookup(request, request.query.get("token_id"), "market not found")
    return ok({"neg_risk": market.neg_risk})


@routes.get("/fee-rate")
async def get_fee_rate(request: web.Request) -> web.Response:
    _lookup(request, request.query.get("token_id"), "market not found")
    return ok({"base_fee": 0})


@routes.get("/fees/builder-fees/{code}")
async def get_builder_fees(request: web.Request) -> web.Response:
    return ok({"builder_maker_fee_rate_bps": 0, "builder_taker_fee_rate_bps": 0})


def _last_trade(market: Market, token: Token) -> dict[str, str]:
    side = market.last_trade_side
    if not token.is_yes:
        side = "SELL" if side == "BUY" else "BUY"
    return {"price": fmt(last_trade_price(market, token)), "side": side}


@routes.get("/last-trade-price")
async def get_last_trade_price(request: web.Request) -> web.Response:
    market, token = _lookup(request, request.query.get("token_id"))
    return ok(_last_trade(market, token))


@routes.post("/last-trades-prices")
async def post_last_trades_prices(request: web.Request) -> web.Response:
    out = []
    for item in await _batch(request):
        market, token = _lookup(request, str(item["token_id"]))
        out.append({"token_id": token.token_id, **_last_trade(market, token)})
    return ok(out)


def _all_markets(request: web.Request) -> list[Market]:
    return list(request.app[SIM_KEY].exchange.markets.values())


@routes.get("/markets")
@routes.get("/sampling-markets")
async def get_markets(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    data = [clob_market(m, sim.exchange.books[m.condition_id]) for m in _all_markets(request)]
    return ok(page(data, request.query.get("next_cursor"), sim.cfg.page_size))


@routes.get("/simplified-markets")
@routes.get("/sampling-simplified-markets")
async def get_simplified_markets(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    data = [simplified_market(m, sim.exchange.books[m.condition_id]) for m in _all_markets(request)]
    return ok(page(data, request.query.get("next_cursor"), sim.cfg.page_size))


def _market(request: web.Request) -> Market:
    market = request.app[SIM_KEY].exchange.markets.get(request.match_info["condition_id"])
    if market is None:
        raise HttpError(404, "market not found")
    return market


@routes.get("/markets/{condition_id}")
async def get_market(request: web.Request) -> web.Response:
    market = _market(request)
    return ok(clob_market(market, _book(request, market)))


@routes.get("/clob-markets/{condition_id}")
async def get_clob_market(request: web.Request) -> web.Response:
    return ok(clob_market_info(_market(request)))


@routes.get("/markets-by-token/{token_id}")
async def get_market_by_token(request: web.Request) -> web.Response:
    market, _ = _lookup(request, request.match_info["token_id"], "market not found")
    return ok({"condition_id": market.condition_id})


@routes.get("/prices-history")
async def get_prices_history(request: web.Request) -> web.Response:
    market, token = _lookup(request, request.query.get("market"), "market not found")
    sim = request.app[SIM_KEY]
    try:
        points = sim.history.query(
            market, token.is_yes, query_int(request, "startTs"), query_int(request, "endTs"),
            request.query.get("interval"), query_int(request, "fidelity"), int(time.time()),
        )
    except HistoryError as exc:
        raise HttpError(400, str(exc)) from None
    return ok({"history": points})
