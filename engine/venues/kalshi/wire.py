"""Kalshi's orders, fills and refusals in the desk's terms, both ways (ids and units:
contracts/venues/kalshi/ids.py; Kalshi's shapes: engine/venues/kalshi/models.py).

Kalshi's V2 orders are on the YES book only: a `bid` at p buys YES at p, an `ask` at p sells YES at p,
which is how Kalshi takes a NO bought at q (an ask at 1 - q) or a NO sold at q (a bid at 1 - q). So a
desk order on either token becomes (book side, YES price) and a fill comes back in the order's own
token and side. The desk knows its orders by the client order id it sends (Kalshi refuses a second
order with the same one); that id carries the desk's token side and side (`<client id>:<yes|no>:<buy|
sell>`), so an order read back from Kalshi, after a restart included, is the one the desk sent. An
order Kalshi reports that the desk did not send is read as the side it positions (a bid long YES,
an ask long NO).
"""

from __future__ import annotations

import re

from contracts.domain import ONE, Side, Tif
from contracts.order_status import TradeStatus, VenueOrderStatus
from contracts.venues.kalshi.grid import WHOLE_CENTS, Band, grid_problem
from contracts.venues.kalshi.ids import NotKalshi, market_id, size_problem, split_token, tif_problem, token_id
from engine.venues.base import (
    OrderRejected,
    OrderRequest,
    RegionBlocked,
    VenueBusy,
    VenueError,
    VenueOrder,
    VenueTrade,
    VenueUnavailable,
)
from engine.venues.kalshi import models
from engine.venues.kalshi.client import order_body
from engine.venues.kalshi.fixed import KalshiShapeError
from engine.venues.kalshi.http import (
    KalshiAuthFailed,
    KalshiBusy,
    KalshiError,
    KalshiRefused,
    KalshiRegionBlocked,
    KalshiRetired,
    KalshiUnavailable,
)

TIF = {Tif.GTC: "good_till_canceled", Tif.FOK: "fill_or_kill", Tif.FAK: "immediate_or_cancel"}
STATUS = {"resting": VenueOrderStatus.LIVE, "executed": VenueOrderStatus.MATCHED,
          "canceled": VenueOrderStatus.CANCELED}
OUTSIDE_ID = "kalshi-order:"  # an order the desk did not send: Kalshi's own id
# Kalshi's answers while a pause is in force (a trading or exchange pause, or a halted market): its pages do
# not spell the code; live clients log HTTP 409 `trading_is_paused` (one counted 335 on a halted market)
# and match `exchange_is_paused` beside it; `trading_paused` and `exchange_paused` are the older
# spellings this desk knew. Any other 409 whose code says "paused" is read as a pause too.
PAUSED = ("trading_is_paused", "exchange_is_paused", "trading_paused", "exchange_paused")
_OWN = re.compile(r"^(?P<client>.+):(?P<token>yes|no):(?P<side>buy|sell)$")


def client_order_id(request: OrderRequest) -> str:
    """The id Kalshi knows the desk's order by: its client id, token side and side."""
    _, side = split_token(request.token_id)
    return f"{request.client_id}:{side}:{request.side.value.lower()}"


def book_terms(token_side: str, side: Side, price: int) -> tuple[str, int]:
    """(book side, YES price) of a desk order on `token_side` at `price` (that token's price)."""
    if token_side == "yes":
        return ("bid" if side is Side.BUY else "ask"), price
    return ("ask" if side is Side.BUY else "bid"), ONE - price


def own_terms(venue_order_id: str, book_side: str) -> tuple[str, Side]:
    """(token side, side) of an order Kalshi reports: the desk's as its id says, else the side it
    positions (a bid is long YES, an ask long NO)."""
    found = _OWN.match(venue_order_id)
    if found is not None:
        return found["token"], Side(found["side"].upper())
    return ("yes", Side.BUY) if book_side == "bid" else ("no", Side.BUY)


def is_pause(code: str, status: int = 409) -> bool:
    """Whether Kalshi's refusal (a whole request's, or one item's of a batch) says trading is paused."""
    return code in PAUSED or (status == 409 and "paused" in code.lower())


def create_body(request: OrderRequest, prepared_id: str, bands: tuple[Band, ...] = WHOLE_CENTS, *,
                cancel_on_pause: bool = False, shard: int | None = None) -> dict[str, object]:
    """The CreateOrderV2Request of a desk order, routed to its market's shard; NotKalshi for what Kalshi
    cannot take."""
    ticker, token_side = split_token(request.token_id)
    book_side, yes_price = book_terms(token_side, request.side, request.price)
    problem = size_problem(request.size) or tif_problem(request.tif) or grid_problem(yes_price, bands)
    if problem is not None:
        raise NotKalshi(problem)
    return order_body(ticker=ticker, client_order_id=prepared_id, book_side=book_side, price=yes_price,
                      count=request.size, time_in_force=TIF[request.tif], post_only=request.post_only,
                      cancel_on_pause=cancel_on_pause, shard=shard)


def venue_id_of(order: models.Order) -> str:
    return order.client_order_id or f"{OUTSIDE_ID}{order.order_id}"


def venue_order(order: models.Order) -> VenueOrder:
    """A Kalshi order as the desk reads orders: in the token and side the desk sent it on."""
    venue_id = venue_id_of(order)
    token_side, side = own_terms(venue_id, order.book_side)
    price = order.yes_price if token_side == "yes" else ONE - order.yes_price
    return VenueOrder(venue_id, market_id(order.ticker), token_id(order.ticker, token_side), side, price,
                      order.initial_count, order.fill_count, STATUS[order.status], order.created_ms)


def venue_trade(fill: models.Fill, venue_order_id: str) -> VenueTrade:
    """A Kalshi fill as one of the desk's fills: the order's token, side and price, Kalshi's fee."""
    token_side, side = own_terms(venue_order_id, fill.book_side)
    price = fill.yes_price if token_side == "yes" else ONE - fill.yes_price
    return VenueTrade(trade_id=fill.trade_id, venue_order_id=venue_order_id, condition_id=market_id(fill.ticker),
                      token_id=token_id(fill.ticker, token_side), side=side, price=price, size=fill.count,
                      fee=fill.fee, status=TradeStatus.CONFIRMED, liquidity="TAKER" if fill.is_taker else "MAKER",
                      matched_ms=fill.at_ms)


def venue_error(exc: KalshiError | KalshiShapeError) -> VenueError:
    """Kalshi's answer as the desk's venue errors: a pause or a spent token budget is busy (nothing
    done, not a fault), a refusal answers this order (its code and details in the message, which the
    desk's refusal reader knows: engine/venues/refusals.py), the rest is unknown."""
    if isinstance(exc, KalshiShapeError):
        return VenueError(f"Kalshi answered in a shape the desk cannot read: {exc}")
    if is_pause(exc.code, exc.status):
        return VenueBusy(f"{exc} (Kalshi's trading is paused)", maintenance=True)
    if isinstance(exc, KalshiBusy):
        return VenueBusy(str(exc), maintenance=False)
    if isinstance(exc, KalshiRegionBlocked):  # a geoblock, never the key (contracts/geoblock.py)
        return RegionBlocked(f"region blocked: {exc}")
    if isinstance(exc, KalshiAuthFailed):
        return VenueError(f"{exc} (check KALSHI_API_KEY_ID, KALSHI_PRIVATE_KEY, the key's scopes and the clock)")
    if isinstance(exc, KalshiRetired):
        return VenueError(f"{exc}: the desk called an endpoint Kalshi retired")
    if isinstance(exc, KalshiRefused):
        return OrderRejected(str(exc))
    assert isinstance(exc, KalshiUnavailable)
    return VenueUnavailable(str(exc))


__all__ = ["NotKalshi", "client_order_id", "create_body", "venue_order", "venue_trade", "venue_error", "OUTSIDE_ID",
           "is_pause"]
