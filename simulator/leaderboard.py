"""Who trades well: the Data API's leaderboard and a wallet's closed positions, from the trade tape.

As data-api.polymarket.com documents them (docs.polymarket.com, "Get trader leaderboard rankings"
and "Get closed positions for a user"):

- ``GET /data-api/v1/leaderboard``: ``category`` (OVERALL, POLITICS, SPORTS, ESPORTS, CRYPTO,
  CULTURE, MENTIONS, WEATHER, ECONOMICS, TECH, FINANCE; default OVERALL), ``timePeriod`` (DAY, WEEK,
  MONTH, ALL; default DAY), ``orderBy`` (PNL, VOL; default PNL), ``limit`` 1 to 50 (default 25),
  ``offset`` 0 to 1000, ``user`` (one wallet's row), ``userName``. A row: ``rank`` (a string),
  ``proxyWallet``, ``userName``, ``vol``, ``pnl``, ``profileImage``, ``xUsername``,
  ``verifiedBadge``.
- ``GET /data-api/closed-positions``: ``user`` (required), ``market`` (condition ids,
  comma-separated), ``title``, ``limit`` 0 to 50 (default 10), ``offset`` 0 to 100,000,
  ``sortBy`` REALIZEDPNL (default), TITLE, PRICE, AVGPRICE, TIMESTAMP, ``sortDirection`` ASC or
  DESC (default). A row: ``proxyWallet``, ``asset``, ``conditionId``, ``avgPrice``,
  ``totalBought``, ``realizedPnl``, ``curPrice``, ``timestamp``, ``title``, ``slug``, ``icon``,
  ``eventSlug``, ``outcome``, ``outcomeIndex``, ``oppositeOutcome``, ``oppositeAsset``, ``endDate``.

Anything else is refused with 400 and the venue's kind of words. What the venue does not publish
is this simulator's choice (README, "Known differences"): a period's PnL counts the trades made in
it (cash paid and received, what they still hold marked at the payout once final, else at the
token's last print on the tape), a market's category is read from its tags, and a position is
closed when its market is final or it has been sold down to nothing, its realized PnL what it
received less what the shares it sold or redeemed cost on average.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .httputil import SIM_KEY, HttpError, ok, query_int
from .units import ONE, as_float

if TYPE_CHECKING:
    from .markets import Market, Token
    from .trades import Trade

CATEGORIES = ("OVERALL", "POLITICS", "SPORTS", "ESPORTS", "CRYPTO", "CULTURE", "MENTIONS", "WEATHER",
              "ECONOMICS", "TECH", "FINANCE")
PERIODS = {"DAY": 86_400, "WEEK": 7 * 86_400, "MONTH": 30 * 86_400, "ALL": None}
ORDERS = ("PNL", "VOL")
SORTS = ("REALIZEDPNL", "TITLE", "PRICE", "AVGPRICE", "TIMESTAMP")
BOARD_LIMIT, BOARD_OFFSET = 50, 1_000
CLOSED_LIMIT, CLOSED_OFFSET = 50, 100_000
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
CONDITION = re.compile(r"^0x[0-9a-fA-F]{64}$")
routes = web.RouteTableDef()


@dataclass
class Holding:
    """One wallet's trades in one token (micro-units)."""

    market: Market
    token: Token
    bought: int = 0  # shares
    cost: int = 0  # pUSD paid for them
    sold: int = 0
    proceeds: int = 0
    last_at: int = 0  # s
    trades: list[tuple[int, str, int, int]] = field(default_factory=list)  # (at s, side, price, size)

    def add(self, at: int, side: str, price: int, size: int) -> None:
        cash = price * size // ONE
        if side == "BUY":
            self.bought, self.cost = self.bought + size, self.cost + cash
        else:
            self.sold, self.proceeds = self.sold + size, self.proceeds + cash
        self.last_at = max(self.last_at, at)

    def payout(self) -> int | None:
        market = self.market
        if market.payouts is None:
            return None
        return market.payouts[0] if self.token.is_yes else market.payouts[1]


def agent_names(seed: int) -> dict[str, str]:
    """The simulator's own participants, named on the board as a profile would be."""
    from .participants import agent_address

    return {agent_address(name, seed): f"sim-{name}" for name in ("maker", "taker", "informed", "liquidity",
                                                                   "liquidity-2")}


def _category(market: Market) -> set[str]:
    tags = {t.strip().upper() for t in market.tags}
    return {c for c in CATEGORIES if c in tags} | {"OVERALL"}


def _rows_of(trades: Iterable[Trade]) -> Iterable[tuple[Trade, str, Token, str, int, int]]:
    """(trade, wallet, token, side, price in that token, size) for every side of every trade."""
    from .public_trades import maker_legs, taker_leg

    for trade in trades:
        yield (trade, *taker_leg(trade))
        for leg in maker_legs(trade):
            yield (trade, *leg)


def _holdings(trades: Iterable[Trade], *, since: int | None = None, category: str = "OVERALL",
              wallet: str | None = None) -> dict[str, dict[str, Holding]]:
    out: dict[str, dict[str, Holding]] = {}
    for trade, who, token, side, price, size in _rows_of(trades):
        if (since is not None and trade.match_time < since) or (wallet is not None and who != wallet):
            continue
        if category != "OVERALL" and category not in _category(trade.market):
            continue
        mine = out.setdefault(who, {})
        holding = mine.get(token.token_id) or mine.setdefault(token.token_id, Holding(trade.market, token))
        holding.add(trade.match_time, side, price, size)
    return out


def _last_prints(trades: Iterable[Trade]) -> dict[str, int]:
    """Each token's last print on the tape, in its own price space."""
    last: dict[str, int] = {}
    for _trade, _, token, _, price, _ in _rows_of(trades):
        last[token.token_id] = price
    return last


def board(trades: list[Trade], names: dict[str, str], category: str, period: str, order: str) -> list[dict[str, Any]]:
    span = PERIODS[period]
    since = None if span is None else int(time.time()) - span
    marks = _last_prints(trades)
    rows: list[dict[str, Any]] = []
    for wallet, held in _holdings(trades, since=since, category=category).items():
        pnl = vol = 0
        for h in held.values():
            mark = h.payout()
            mark = marks.get(h.token.token_id, 0) if mark is None else mark
            pnl += h.proceeds - h.cost + (h.bought - h.sold) * mark // ONE
            vol += h.cost + h.proceeds
        rows.append({"proxyWallet": wallet, "userName": names.get(wallet, ""), "vol": as_float(vol),
                     "pnl": as_float(pnl), "profileImage": "", "xUsername": "", "verifiedBadge": False})
    key = "pnl" if order == "PNL" else "vol"
    rows.sort(key=lambda r: (-r[key], r["proxyWallet"]))
    return [{"rank": str(n), **r} for n, r in enumerate(rows, start=1)]


def closed_positions(trades: list[Trade], wallet: str) -> list[dict[str, Any]]:
    marks = _last_prints(trades)
    out = []
    for h in _holdings(trades, wallet=wallet).get(wallet, {}).values():
        payout = h.payout()
        if h.bought <= 0 or (payout is None and h.sold < h.bought):
            continue  # still open (or never bought: nothing to close)
        avg = h.cost * ONE // h.bought
        left = max(0, h.bought - h.sold)
        realized = h.proceeds - avg * min(h.sold, h.bought) // ONE + ((payout - avg) * left // ONE if payout else
                                                                      -avg * left // ONE)
        market, other = h.market, h.market.no if h.token.is_yes else h.market.yes
        out.append({"proxyWallet": wallet, "asset": h.token.token_id, "conditionId": market.condition_id,
                    "avgPrice": as_float(avg), "totalBought": as_float(h.bought), "realizedPnl": as_float(realized),
                    "curPrice": as_float(payout if payout is not None else marks.get(h.token.token_id, 0)),
                    "timestamp": h.last_at, "title": market.question, "slug": market.slug, "icon": market.icon,
                    "eventSlug": market.group or market.slug, "outcome": h.token.outcome,
                    "outcomeIndex": 0 if h.token.is_yes else 1, "oppositeOutcome": other.outcome,
                    "oppositeAsset": other.token_id, "endDate": ""})
    return out


def _choice(request: web.Request, name: str, allowed: Iterable[str], default: str) -> str:
    value = request.query.get(name, default)
    allowed = tuple(allowed)
    if value not in allowed:
        raise HttpError(400, f"invalid {name}: must be one of {', '.join(allowed)}")
    return value


def _bounded(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    value = query_int(request, name)
    value = default if value is None else value
    if not low <= value <= high:
        raise HttpError(400, f"invalid {name}: must be from {low} to {high}")
    return value


@routes.get("/data-api/v1/leaderboard")
async def leaderboard(request: web.Request) -> web.Response:
    category = _choice(request, "category", CATEGORIES, "OVERALL")
    period = _choice(request, "timePeriod", PERIODS, "DAY")
    order = _choice(request, "orderBy", ORDERS, "PNL")
    limit = _bounded(request, "limit", 25, 1, BOARD_LIMIT)
    offset = _bounded(request, "offset", 0, 0, BOARD_OFFSET)
    user, name = request.query.get("user"), request.query.get("userName")
    if user is not None and not ADDRESS.match(user):
        raise HttpError(400, "invalid user: must be a wallet address")
    sim = request.app[SIM_KEY]
    rows = board(list(sim.tape.trades), agent_names(sim.cfg.seed), category, period, order)
    if user is not None:
        rows = [r for r in rows if r["proxyWallet"] == user.lower()]
    if name:
        rows = [r for r in rows if r["userName"].lower() == name.lower()]
    return ok(rows[offset:offset + limit])


@routes.get("/data-api/closed-positions")
async def closed(request: web.Request) -> web.Response:
    user = request.query.get("user", "")
    if not ADDRESS.match(user):
        raise HttpError(400, "invalid user: must be a wallet address")
    markets = {m.strip() for m in request.query.get("market", "").split(",") if m.strip()}
    if not all(CONDITION.match(m) for m in markets):
        raise HttpError(400, "invalid market: condition ids (0x and 64 hex digits), comma-separated")
    limit = _bounded(request, "limit", 10, 0, CLOSED_LIMIT)
    offset = _bounded(request, "offset", 0, 0, CLOSED_OFFSET)
    sort = _choice(request, "sortBy", SORTS, "REALIZEDPNL")
    direction = _choice(request, "sortDirection", ("ASC", "DESC"), "DESC")
    title = request.query.get("title", "").lower()
    rows = [r for r in closed_positions(list(request.app[SIM_KEY].tape.trades), user.lower())
            if (not markets or r["conditionId"] in markets) and title in r["title"].lower()]
    field_of = {"REALIZEDPNL": "realizedPnl", "TITLE": "title", "PRICE": "curPrice", "AVGPRICE": "avgPrice",
                "TIMESTAMP": "timestamp"}[sort]
    rows.sort(key=lambda r: (r[field_of], r["asset"]), reverse=direction == "DESC")
    return ok(rows[offset:offset + limit])
