"""What the paper venue refuses, as the venue refuses it (with its messages, in its order), and how
a stored paper trade reads back: pure rules, apart from the paper venue's state
(engine/venues/paper.py). tests/venues/test_paper_refusal_parity.py holds each rule to the
venue's (the simulator's) refusal of the same order."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.domain import MICRO, ONE, MarketInfo, Side, Tif, fmt
from contracts.expiry import venue_expiry_problem
from contracts.venue_rules import LOT, TAKE, taker_fee
from contracts.venues import KALSHI, venue_of
from contracts.venues.kalshi import fees as kalshi_fees
from contracts.venues.kalshi import grid as kalshi_grid
from contracts.venues.kalshi import ids as kalshi_ids
from engine.venues.base import OrderRequest, TradeStatus, VenueTrade

INVALID_PAYLOAD = "Invalid order payload"  # the venue's answer for a token it has no market for
NOT_READY = "the market is not yet ready to process new orders"
POST_ONLY_TAKE = "invalid post-only order: only GTC and GTD order types are allowed"
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
KALSHI_POST_ONLY_CROSS = "invalid_order: post only cross"  # Kalshi's code and details
FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NO_MATCH = ("no orders found to match with FAK order. FAK orders are partially filled or killed if no match "
                "is found.")
CENT = 10_000  # a fill-and-kill BUY spends whole cents (the signed maker amount has 2 decimals)


@dataclass(frozen=True, slots=True)
class Wallet:
    """What the paper wallet can put behind one order: the token's shares and the cash, each with
    what its resting orders already hold (resting SELLs the shares, resting BUYs the cash)."""

    shares: int = 0
    shares_held: int = 0
    cash: int = 0
    cash_held: int = 0


def refusal(req: OrderRequest, market: MarketInfo | None, now_s: int, wallet: Wallet) -> str | None:
    """The venue's checks of the order's own terms: the message it refuses `req` with, or None."""
    if market is None:
        return INVALID_PAYLOAD
    if venue_of(market.condition_id) == KALSHI:
        return _kalshi_refusal(req, market, now_s, wallet)
    tick = market.tick
    if req.price % tick or not tick <= req.price <= ONE - tick:
        return f"order is invalid. Price ({fmt(req.price)}) breaks minimum tick size rule: {fmt(tick)}"
    if req.size <= 0 or req.size % LOT:
        return (f"invalid amounts, the size ({fmt(req.size)}) supports a max accuracy of 2 decimals "
                "(a positive multiple of 0.01 shares)")
    if req.post_only and req.tif in TAKE:
        return POST_ONLY_TAKE
    if req.tif not in TAKE and req.size < market.min_size:  # fill-and-kill orders have no minimum size
        return f"order is invalid. Size ({fmt(req.size)}) lower than the minimum: {fmt(market.min_size)}"
    if req.tif is Tif.GTD and (problem := venue_expiry_problem(req.expires_at_s, now_s)):
        return problem
    if market.closed or not market.accepting_orders:
        return NOT_READY
    if req.side is Side.SELL and wallet.shares - wallet.shares_held < req.size:
        # The venue's balance rule for a SELL: a strategy's own resting ask therefore blocks a
        # second SELL of the same shares until it is cancelled, as live.
        return _short(wallet.shares, wallet.shares_held, req.size)
    return None


def _kalshi_refusal(req: OrderRequest, market: MarketInfo, now_s: int, wallet: Wallet) -> str | None:
    """Kalshi's checks of an order's terms (the wire's, engine/venues/kalshi/wire.py, which a live
    order meets before it is sent: its count, its time in force, its YES price on the market's grid),
    the fees paper can charge, its market's state and the shares a SELL needs."""
    yes_price = req.price if req.token_id == market.yes_token else ONE - req.price
    problem = kalshi_ids.size_problem(req.size) or kalshi_ids.tif_problem(req.tif) or \
        kalshi_grid.grid_problem(yes_price, market.price_grid or kalshi_grid.WHOLE_CENTS) or \
        kalshi_fees_of(market, now_s * 1000).problem
    if problem is not None:
        return problem
    if req.post_only and req.tif in TAKE:
        return POST_ONLY_TAKE
    if market.closed or not market.accepting_orders:
        return (f"MARKET_INACTIVE: market {market.condition_id.removeprefix(kalshi_ids.PREFIX)} is not open for "
                "trading: it takes no orders")
    if req.side is Side.SELL and wallet.shares - wallet.shares_held < req.size:
        return _short(wallet.shares, wallet.shares_held, req.size)
    return None


def fill_fee(market: MarketInfo | None, price: int, size: int, liquidity: str, at_ms: int) -> int:
    """What the venue charges on one fill at `at_ms`: Kalshi's fee (takers, and makers where the
    market charges them; the series' settings in force then), Polymarket's taker fee where the market
    has one."""
    if market is None:
        return 0
    taker = liquidity == "TAKER"
    if venue_of(market.condition_id) == KALSHI:
        return kalshi_fees.trade_fee(kalshi_fees_of(market, at_ms), price, size, taker=taker)
    return taker_fee(price, size, market.fee_rate_ppm, market.fee_exponent) if taker else 0


def book_refusal(req: OrderRequest, reachable: int, fee: int, wallet: Wallet, *, kalshi: bool = False) -> str | None:
    """The venue's checks against the book as it is: a BUY's cash with the fee of what it would
    take, a post-only that would take, a FOK that cannot fill, and Polymarket's own: a FAK that finds
    nothing, a marketable BUY worth under $1 (Kalshi cancels an IOC that finds nothing, and has no
    minimum). `reachable`: the shares the book offers at the order's price."""
    cost = req.size * req.price // MICRO if kalshi else buy_cost(req)
    if req.side is Side.BUY and wallet.cash - wallet.cash_held < cost + fee:
        return _short(wallet.cash, wallet.cash_held, cost + fee)
    if req.post_only and reachable > 0:
        return KALSHI_POST_ONLY_CROSS if kalshi else POST_ONLY_CROSSES
    if req.tif is Tif.FOK and reachable < req.size:
        return FOK_NOT_FILLED
    if kalshi:
        return None
    if req.tif is Tif.FAK and reachable <= 0:
        return FAK_NO_MATCH
    marketable = reachable > 0 or req.tif in TAKE
    if req.side is Side.BUY and marketable and buy_cost(req) < MICRO:
        return f"invalid amount for a marketable BUY order (${fmt(buy_cost(req))}), min size: $1"
    return None


def buy_cost(req: OrderRequest) -> int:
    """What a BUY puts up: its notional (rounded up, as the venue holds it), or for a
    fill-and-kill the whole cents it was signed to spend."""
    exact = req.size * req.price
    if req.tif in TAKE:
        cash = exact // MICRO
        return cash - cash % CENT
    return -(-exact // MICRO)


def _short(balance: int, held: int, need: int) -> str:
    return ("not enough balance / allowance: the balance is not enough -> "
            f"balance: {balance}, sum of active orders: {held}, order amount: {need}")


def crosses(best_bid: int | None, best_ask: int | None, side: Side, price: int) -> bool:
    """Whether the other side's best price reaches `price`: only then can an order take
    anything (the deep copy of the book a walk needs is made only then)."""
    if side is Side.BUY:
        return best_ask is not None and best_ask <= price
    return best_bid is not None and best_bid >= price


def settlement_fails(seed: int, fail_rate: float, trade_id: str) -> bool:
    """Whether a trade's settlement fails: seeded per trade, so replays agree."""
    return fail_rate > 0 and random.Random(f"{seed}:{trade_id}").random() < fail_rate


def trade_from_row(row: Mapping[str, Any] | sqlite3.Row, market: MarketInfo | None) -> VenueTrade:
    return VenueTrade(row["trade_id"], row["venue_order_id"], market.condition_id if market else "",
                      row["token_id"], Side(row["side"]), row["price"], row["size"], row["fee"],
                      TradeStatus(row["status"]), row["liquidity"], row["matched_at"])


def kalshi_fees_of(market: MarketInfo, at_ms: int) -> kalshi_fees.KalshiFees:
    """The Kalshi market's fee settings in force at `at_ms` (a change Kalshi scheduled applies from its
    time on, whenever the desk last read the series)."""
    return kalshi_fees.market_fees_at(market, at_ms)
