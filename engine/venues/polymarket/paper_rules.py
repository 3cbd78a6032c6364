"""Polymarket's rules as the paper venue applies them (engine/venues/paper_rules.py `PaperRules`): a
price on the market's tick, sizes in 0.01 shares above the market's minimum (fill-and-kill orders have
none), a GTD's expiry, a closed market; against the book, a BUY's cash with its fee, a post-only that
would cross, a FOK that cannot fill, a FAK that finds nothing and a marketable BUY worth under $1.
Taker fills pay the market's fee rate; every order is sent on its own."""

from __future__ import annotations

from sqlalchemy import Connection

from contracts.domain import MICRO, ONE, MarketInfo, Side, Tif, fmt
from contracts.expiry import venue_expiry_problem
from contracts.venue_rules import LOT, TAKE, taker_fee
from engine.venues.base import OrderRequest
from engine.venues.paper_rules import (
    FAK_NO_MATCH,
    FOK_NOT_FILLED,
    NOT_READY,
    POST_ONLY_CROSSES,
    POST_ONLY_TAKE,
    Wallet,
    buy_cost,
    short,
)


class PolymarketPaper:
    credits_rebates = True  # makers' rebates and liquidity rewards are paid into the wallet

    def refusal(self, req: OrderRequest, market: MarketInfo, now_s: int, wallet: Wallet) -> str | None:
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
            return short(wallet.shares, wallet.shares_held, req.size)
        return None

    def book_refusal(self, req: OrderRequest, reachable: int, fee: int, wallet: Wallet) -> str | None:
        cost = buy_cost(req)
        if req.side is Side.BUY and wallet.cash - wallet.cash_held < cost + fee:
            return short(wallet.cash, wallet.cash_held, cost + fee)
        if req.post_only and reachable > 0:
            return POST_ONLY_CROSSES
        if req.tif is Tif.FOK and reachable < req.size:
            return FOK_NOT_FILLED
        if req.tif is Tif.FAK and reachable <= 0:
            return FAK_NO_MATCH
        marketable = reachable > 0 or req.tif in TAKE
        if req.side is Side.BUY and marketable and cost < MICRO:
            return f"invalid amount for a marketable BUY order (${fmt(cost)}), min size: $1"
        return None

    def fill_fee(self, market: MarketInfo | None, price: int, size: int, liquidity: str, at_ms: int) -> int:
        """The taker fee where the market has one; makers pay nothing."""
        if market is None or liquidity != "TAKER":
            return 0
        return taker_fee(price, size, market.fee_rate_ppm, market.fee_exponent)

    def reported_fee(self, conn: Connection, venue_order_id: str, buy: bool, market: MarketInfo | None,
                     price: int, size: int, fee: int) -> int:
        return fee

    def batch_size(self, kind: str, items: int) -> int:
        return max(1, items)
