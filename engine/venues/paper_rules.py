"""What the paper venue refuses, as the venue refuses it (with its messages), and how a stored
paper trade reads back: pure rules, apart from the paper venue's state (engine/venues/paper.py)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from engine.contracts.expiry import venue_expiry_problem
from engine.domain import ONE, MarketInfo, Side, Tif
from engine.venues.base import OrderRequest, TradeStatus, VenueTrade


def refusal(req: OrderRequest, market: MarketInfo | None, now_s: int, *, balance: int,
            reserved: int) -> str | None:
    """The venue's own legality checks: the message it refuses `req` with, or None. `balance`
    is the wallet's shares of the token, `reserved` what its resting SELLs on it already hold."""
    tick = market.tick if market else req.tick
    if req.price % tick or not tick <= req.price <= ONE - tick:
        return "order is invalid. Price breaks minimum tick size rules"
    if market is not None and req.size < market.min_size:
        return "order is invalid. Size lower than the minimum"
    if market is not None and (market.closed or not market.accepting_orders):
        return "market is not accepting orders"
    if req.tif is Tif.GTD and (problem := venue_expiry_problem(req.expires_at_s, now_s)):
        return problem
    if req.side is Side.SELL and balance - reserved < req.size:
        # The venue's balance rule for a SELL: a strategy's own resting ask therefore blocks a
        # second SELL of the same shares until it is cancelled, as live.
        return ("not enough balance / allowance: the balance is not enough -> "
                f"balance: {balance}, sum of active orders: {reserved}, order amount: {req.size}")
    return None


def crosses(best_bid: int | None, best_ask: int | None, side: Side, price: int) -> bool:
    """Whether the other side's best price reaches `price`: only then can an order take
    anything (the deep copy of the book a walk needs is made only then)."""
    if side is Side.BUY:
        return best_ask is not None and best_ask <= price
    return best_bid is not None and best_bid >= price


def settlement_fails(seed: int, fail_rate: float, trade_id: str) -> bool:
    """Whether a trade's settlement fails: seeded per trade, so replays agree."""
    return fail_rate > 0 and random.Random(f"{seed}:{trade_id}").random() < fail_rate


def trade_from_row(row: Mapping[str, Any], market: MarketInfo | None) -> VenueTrade:
    return VenueTrade(row["trade_id"], row["venue_order_id"], market.condition_id if market else "",
                      row["token_id"], Side(row["side"]), row["price"], row["size"], row["fee"],
                      TradeStatus(row["status"]), row["liquidity"], row["matched_at"])
