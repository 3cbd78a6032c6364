"""Kalshi's orders, fills and fees in the desk's terms, both ways (ids and units:
contracts/kalshi_ids.py). Kalshi assigns order ids itself; the desk knows its orders by the client
order id it sends with each (Kalshi refuses a second order with the same one), which is the desk's
venue order id here.

Fees, from Kalshi's fee schedule: a taker pays ceil(0.07 x C x P x (1 - P)) rounded up to the
cent, a maker ceil(0.0175 x ...) on the markets that charge makers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.domain import Side, Tif
from contracts.kalshi_ids import (
    CENT,
    CONTRACT,
    MAKER_RATE,
    TAKER_RATE,
    NotKalshi,
    fee_cents,
    fill_fee,
    market_id,
    order_problem,
    split_token,
    token_id,
)
from contracts.order_status import TradeStatus, VenueOrderStatus
from engine.venues.base import OrderRequest, VenueOrder, VenueTrade

__all__ = ["CENT", "CONTRACT", "NotKalshi", "market_id", "split_token", "token_id", "order_body", "venue_order",
           "venue_trade", "fee_cents", "BUSINESS", "MAKER_RATE", "TAKER_RATE", "OUTSIDE_ID"]
TIF = {Tif.GTC: "good_till_canceled", Tif.FOK: "fill_or_kill", Tif.FAK: "immediate_or_cancel"}
STATUS = {"resting": VenueOrderStatus.LIVE, "executed": VenueOrderStatus.MATCHED,
          "canceled": VenueOrderStatus.CANCELED}
# Kalshi's refusals that answer this order (a decision, not a fault), in the words the desk's
# refusal reader knows (engine/venues/refusals.py), so they never count toward the error-rate breaker.
BUSINESS = {"post_only_cross": "order crosses book", "insufficient_balance": "not enough balance",
            "fill_or_kill_insufficient": "FOK orders are fully filled or killed", "market_closed": "market is closed"}
OUTSIDE_ID = "kalshi-order:"  # an order placed outside the desk (no client order id): Kalshi's own id


def order_body(request: OrderRequest) -> dict[str, Any]:
    """The CreateOrderRequest of a desk order; NotKalshi for what Kalshi cannot take."""
    ticker, side = split_token(request.token_id)
    problem = order_problem(request.price, request.size, request.tif)
    if problem is not None:
        raise NotKalshi(problem)
    body: dict[str, Any] = {
        "ticker": ticker, "side": side, "action": "buy" if request.side is Side.BUY else "sell",
        "count": request.size // CONTRACT, "type": "limit", f"{side}_price": request.price // CENT,
        "client_order_id": request.client_id, "time_in_force": TIF[request.tif],
    }
    if request.post_only:
        body["post_only"] = True
    return body


def _ms(at: datetime | None) -> int:
    return int(at.timestamp() * 1000) if at is not None else 0


def venue_order(order: Any) -> VenueOrder:
    """A Kalshi `Order` (the SDK's model) as the desk reads orders."""
    own = order.yes_price if order.side == "yes" else order.no_price
    status = STATUS.get(order.status.value if hasattr(order.status, "value") else str(order.status),
                        VenueOrderStatus.UNKNOWN)
    return VenueOrder(
        venue_order_id=order.client_order_id or f"{OUTSIDE_ID}{order.order_id}",
        condition_id=market_id(order.ticker), token_id=token_id(order.ticker, order.side),
        side=Side.BUY if order.action == "buy" else Side.SELL, price=own * CENT,
        size=order.initial_count * CONTRACT, filled=order.fill_count * CONTRACT, status=status,
        created_ms=_ms(order.created_time))


def venue_trade(fill: Any, venue_order_id: str, maker_charged: bool) -> VenueTrade:
    """A Kalshi `Fill` as one of the desk's fills: our order's side, price and size."""
    own = fill.yes_price if fill.side == "yes" else fill.no_price
    fee = fill_fee(fill.yes_price * CENT, fill.count * CONTRACT, taker=fill.is_taker, maker_charged=maker_charged)
    return VenueTrade(
        trade_id=fill.fill_id, venue_order_id=venue_order_id, condition_id=market_id(fill.ticker),
        token_id=token_id(fill.ticker, fill.side), side=Side.BUY if fill.action == "buy" else Side.SELL,
        price=own * CENT, size=fill.count * CONTRACT, fee=fee, status=TradeStatus.CONFIRMED,
        liquidity="TAKER" if fill.is_taker else "MAKER",
        matched_ms=_ms(fill.created_time) or (fill.ts or 0) * 1000)
