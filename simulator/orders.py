"""The order record and its two wire views (REST OpenOrder, WS ``order`` event)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .markets import Market, Token
from .units import ONE, fmt

BUY, SELL = "BUY", "SELL"
LIVE, MATCHED, CANCELED = "LIVE", "MATCHED", "CANCELED"
DELAYED, UNMATCHED = "DELAYED", "UNMATCHED"  # sports markets: matching deferred, then not matched
# The venue ends an order it cancels itself with CANCELED_<reason> (a code, or the refusal's own text).
CANCELED_MARKET_RESOLVED = "CANCELED_MARKET_RESOLVED"
CANCELED_EXPIRED = "CANCELED_EXPIRED_ORDER"  # a GTD taken off the book at its expiry
CANCELED_NO_BALANCE = "CANCELED_NOT_ENOUGH_BALANCE"  # a delayed order the account can no longer carry
BID, ASK = "bid", "ask"  # sides of the canonical (YES-space) book
# Limit sizes carry 2 decimals; budget-sized market BUYs match in micro-shares, so a maker can be
# left with less than 0.01 share: rounding dust, which the venue does not keep (the order ends
# MATCHED with size_matched just under its size).
DUST_BELOW = 10_000


def canceled_because(reason: str) -> str:
    """The status of an order the venue cancelled for ``reason``."""
    return f"CANCELED_{reason}"


@dataclass(eq=False, slots=True)
class Order:
    """An accepted order. ``price``/``size`` are in the order's own token space."""

    id: str
    market: Market
    token: Token
    side: str
    price: int  # limit price, micro-pUSD per share
    size: int  # micro-shares (for budget orders: the signed takerAmount, informational)
    order_type: str
    owner: str  # API key of the owner (internal agents use pseudo keys)
    maker_address: str
    created_at: int  # unix seconds
    expiration: int = 0
    post_only: bool = False
    budget: int | None = None  # FOK/FAK BUY: pUSD to spend (the signed makerAmount)
    matched: int = 0  # micro-shares filled
    spent: int = 0  # pUSD paid (BUY) or received (SELL)
    status: str = LIVE
    trade_ids: list[str] = field(default_factory=list)
    rested: bool = False  # ever placed on the book
    reserved: int = 0  # pUSD (BUY) or token micro-shares (SELL) currently held back
    seq: int = 0  # arrival sequence, for time priority
    internal: bool = False  # simulator-owned participant: no balance checks

    @property
    def yes_side(self) -> str:
        return BID if (self.side == BUY) == self.token.is_yes else ASK

    @property
    def yes_price(self) -> int:
        return self.price if self.token.is_yes else ONE - self.price

    @property
    def remaining(self) -> int:
        return self.size - self.matched

    @property
    def used_up(self) -> bool:
        """Nothing left to trade but rounding dust (see ``DUST_BELOW``)."""
        return self.remaining < DUST_BELOW

    @property
    def is_open(self) -> bool:
        """Resting on the book, or waiting out a matching delay: cancellable, reserving funds."""
        return (self.status == LIVE and self.rested) or self.status == DELAYED


def open_order_json(order: Order) -> dict[str, Any]:
    """REST shape of ``GET /data/orders`` items and ``GET /data/order/{id}``."""
    return {
        "id": order.id,
        "status": order.status,
        "owner": order.owner,
        "maker_address": order.maker_address,
        "market": order.market.condition_id,
        "asset_id": order.token.token_id,
        "side": order.side,
        "original_size": fmt(order.size),
        "size_matched": fmt(order.matched),
        "price": fmt(order.price),
        "outcome": order.token.outcome,
        "expiration": str(order.expiration),
        "order_type": order.order_type,
        "associate_trades": list(order.trade_ids),
        "created_at": order.created_at,
    }


def order_event(order: Order, kind: str, ts_ms: int) -> dict[str, Any]:
    """User-channel ``order`` message; ``kind`` is PLACEMENT, UPDATE or CANCELLATION."""
    return {
        "asset_id": order.token.token_id,
        "associate_trades": list(order.trade_ids) or None,
        "created_at": str(order.created_at),
        "event_type": "order",
        "expiration": str(order.expiration),
        "id": order.id,
        "maker_address": order.maker_address,
        "market": order.market.condition_id,
        "order_owner": order.owner,
        "order_type": order.order_type,
        "original_size": fmt(order.size),
        "outcome": order.token.outcome,
        "owner": order.owner,
        "price": fmt(order.price),
        "side": order.side,
        "size_matched": fmt(order.matched),
        "status": order.status,
        "timestamp": str(ts_ms),
        "type": kind,
    }
