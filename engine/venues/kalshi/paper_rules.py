"""Kalshi's rules as the paper venue applies them (engine/venues/paper_rules.py `PaperRules`): the
wire's checks a live order meets before it is sent (its count, its time in force, its YES price on the
market's grid: engine/venues/kalshi/wire.py), the fees paper can charge, its market's state and the
shares a SELL needs; against the book, a BUY's cash (its notional, no $1 minimum) with its fee, a
post-only that would cross (Kalshi's words) and a FOK that cannot fill (an IOC that finds nothing is
cancelled, not refused). Its fees follow the series' schedule with each order's own rounding, and
orders travel in batches of as many as a Basic account's write budget pays for at once."""

from __future__ import annotations

from sqlalchemy import Connection

from contracts.domain import MICRO, ONE, MarketInfo, Side, Tif
from contracts.venue_rules import TAKE
from contracts.venues.kalshi import fees as kalshi_fees
from contracts.venues.kalshi import grid as kalshi_grid
from contracts.venues.kalshi import ids as kalshi_ids
from engine.venues.base import OrderRequest
from engine.venues.kalshi.batches import BASIC_BATCHES
from engine.venues.paper_rules import FOK_NOT_FILLED, POST_ONLY_TAKE, Wallet, short
from storage.engine_stores import paper_book as book_store

POST_ONLY_CROSS = "invalid_order: post only cross"  # Kalshi's code and details


class KalshiPaper:
    credits_rebates = False

    def __init__(self) -> None:
        # Each order's rounding accumulator, as Kalshi keeps one per order (contracts/venues/kalshi/fees.py).
        self.rounding: dict[str, kalshi_fees.FillFees] = {}

    def refusal(self, req: OrderRequest, market: MarketInfo, now_s: int, wallet: Wallet) -> str | None:
        yes_price = req.price if req.token_id == market.yes_token else ONE - req.price
        problem = kalshi_ids.size_problem(req.size) or kalshi_ids.tif_problem(req.tif) or \
            kalshi_grid.grid_problem(yes_price, market.price_grid or kalshi_grid.WHOLE_CENTS) or \
            fees_of(market, now_s * 1000).problem
        if problem is not None:
            return problem
        if req.post_only and req.tif in TAKE:
            return POST_ONLY_TAKE
        if market.closed or not market.accepting_orders:
            return (f"MARKET_INACTIVE: market {market.condition_id.removeprefix(kalshi_ids.PREFIX)} is not open "
                    "for trading: it takes no orders")
        if req.side is Side.SELL and wallet.shares - wallet.shares_held < req.size:
            return short(wallet.shares, wallet.shares_held, req.size)
        return None

    def book_refusal(self, req: OrderRequest, reachable: int, fee: int, wallet: Wallet) -> str | None:
        cost = req.size * req.price // MICRO
        if req.side is Side.BUY and wallet.cash - wallet.cash_held < cost + fee:
            return short(wallet.cash, wallet.cash_held, cost + fee)
        if req.post_only and reachable > 0:
            return POST_ONLY_CROSS
        if req.tif is Tif.FOK and reachable < req.size:
            return FOK_NOT_FILLED
        return None

    def fill_fee(self, market: MarketInfo | None, price: int, size: int, liquidity: str, at_ms: int) -> int:
        """Kalshi's fee: takers', and makers' where the market charges them (the series' settings in force
        at `at_ms`)."""
        if market is None:
            return 0
        return kalshi_fees.trade_fee(fees_of(market, at_ms), price, size, taker=liquidity == "TAKER")

    def reported_fee(self, conn: Connection, venue_order_id: str, buy: bool, market: MarketInfo | None,
                     price: int, size: int, fee: int) -> int:
        """The trade fee and its per-order rounding, as Kalshi reports it."""
        return self._rounding(conn, venue_order_id, market).charge(kalshi_fees.fill_cash(price, size, buy=buy), fee)

    def batch_size(self, kind: str, items: int) -> int:
        return BASIC_BATCHES[kind]

    def _rounding(self, conn: Connection, venue_order_id: str, market: MarketInfo | None) -> kalshi_fees.FillFees:
        """An order's rounding accumulator (rebuilt from its stored fills after a restart: the same
        arithmetic gives the same state)."""
        found = self.rounding.get(venue_order_id)
        if found is None:
            found = kalshi_fees.FillFees()
            for row in book_store.order_fills(conn, venue_order_id):
                found.charge(kalshi_fees.fill_cash(row["price"], row["size"], buy=row["side"] == Side.BUY.value),
                             self.fill_fee(market, row["price"], row["size"], row["liquidity"], row["matched_at"]))
            self.rounding[venue_order_id] = found
        return found


def fees_of(market: MarketInfo, at_ms: int) -> kalshi_fees.KalshiFees:
    """The Kalshi market's fee settings in force at `at_ms` (a change Kalshi scheduled applies from its
    time on, whenever the desk last read the series)."""
    return kalshi_fees.market_fees_at(market, at_ms)
