"""Control routes of the agents' market: ``GET /_sim/news`` (what the world looks like to the
agents) and ``POST /_sim/news`` (a scripted news jump, for tests and demonstrations)."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from .httputil import SIM_KEY, HttpError, ok, parse_json
from .news import NewsError

MAX_LEAD_S = 3600.0


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise HttpError(400, f"{name} must be a number") from None
    if not math.isfinite(number):
        raise HttpError(400, f"{name} must be a finite number")
    return number


def script_news(sim: Any, body: Any) -> dict[str, Any]:
    """``{condition_id, p, lead_s?}``: informed takers know now that the market's probability is
    ``p``; it becomes public ``lead_s`` later (default ``informed_lead_s``)."""
    if not isinstance(body, dict):
        raise HttpError(400, "expected a JSON object")
    market = sim.exchange.markets.get(str(body.get("condition_id", "")))
    if market is None:
        raise HttpError(400, f"unknown condition id {body.get('condition_id')!r}")
    if market.closed:
        raise HttpError(400, "the market is resolved")
    p = _number(body, "p")
    if p is None or not 0 < p < 1:
        raise HttpError(400, "p must be a probability strictly between 0 and 1")
    lead = _number(body, "lead_s")
    if lead is not None and not 0 <= lead <= MAX_LEAD_S:
        raise HttpError(400, f"lead_s must be from 0 to {MAX_LEAD_S:g} seconds")
    agents = sim.agents
    before = market.latent
    try:
        event = agents.script_news(market, p, lead)
    except NewsError as exc:
        raise HttpError(400, str(exc)) from None
    return {"condition_id": market.condition_id, "before": before, "after": p,
            "known_at": event.known_at, "public_at": event.public_at,
            "markets": [m.condition_id for m in event.markets]}


routes = web.RouteTableDef()


@routes.get("/_sim/news")
async def news_status(request: web.Request) -> web.Response:
    return ok(request.app[SIM_KEY].agents.status())


@routes.post("/_sim/news")
async def post_news(request: web.Request) -> web.Response:
    return ok(script_news(request.app[SIM_KEY], parse_json(await request.read())))
