"""The paper wallet: its shares and its cash as the venue's balance checks see them.

Both move at match time, as the venue's balance does (a FAILED trade moves them back), and are
read back from the paper venue's trades at start. The cash is the starting cash plus the trades'
flows, plus what settlement paid (redemptions, merges, maker rebates, liquidity rewards:
engine/venues/paper_settlement.py). Those payments only grow, so the figure kept errs only
toward a refusal, and is read afresh before one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from sqlalchemy import Connection

from contracts.domain import MICRO, Side, notional
from contracts.venues import desk_venue
from engine.feeds.catalog import MarketCatalog
from engine.venues import paper_settlement as settled
from engine.venues.base import OrderRequest
from engine.venues.paper_rules import Wallet, buy_cost
from storage.engine_stores import paper_book as book_store


class RestingOrder(Protocol):
    token_id: str
    side: Side
    price: int

    @property
    def remaining(self) -> int: ...


class PaperWallet:
    def __init__(self, starting_cash: int, catalog: MarketCatalog, clock: Callable[[], int],
                 venue_name: str | None = None, *, credits_rebates: bool = True):
        self.starting_cash = starting_cash
        self.venue_name = venue_name or desk_venue()  # whose paper trades it holds (None: the desk venue's)
        self.credits_rebates = credits_rebates  # its venue pays makers' rebates and rewards into it
        self.catalog = catalog
        self.clock = clock
        self.shares: dict[str, int] = {}
        self.trade_cash = starting_cash
        self.credited = 0

    def load(self, conn: Connection) -> None:
        """Read it back from the paper venue's file (at start)."""
        self.shares = {token: int(held) for token, held in book_store.held_by_token(conn, self.venue_name)}
        amounts = book_store.trade_amounts(conn, self.venue_name)
        self.trade_cash = self.starting_cash + sum(
            cash_flow(Side(side), price, size, fee) for _, side, price, size, fee in amounts)
        self.credited = self.credits(conn)

    def traded(self, token_id: str, side: Side, price: int, size: int, fee: int, *, undone: bool = False) -> None:
        """One fill moves shares and cash (`undone`: a FAILED trade moves them back)."""
        sign = -1 if undone else 1
        self.shares[token_id] = self.shares.get(token_id, 0) + sign * (size if side is Side.BUY else -size)
        self.trade_cash += sign * cash_flow(side, price, size, fee)

    def credits(self, conn: Connection) -> int:
        """What settlement has paid the wallet so far (redemptions, merges; makers' rebates and
        rewards too, where the venue pays them: `credits_rebates`)."""
        paid = settled.total_paid(conn, self.venue_name)
        if not self.credits_rebates:
            return paid
        now = self.clock()
        return (paid + sum(c.amount for c in settled.rebate_credits(conn, self.catalog, now))
                + sum(c.amount for c in settled.reward_credits(conn, now)))

    def for_order(self, conn: Connection, req: OrderRequest, resting: Iterable[RestingOrder]) -> Wallet:
        """What `req` draws on (the token's shares for a SELL, the cash for a BUY) and what the
        resting orders among `resting` already hold of it."""
        if req.side is Side.SELL:
            return Wallet(shares=self.shares.get(req.token_id, 0),
                          shares_held=sum(o.remaining for o in resting
                                          if o.side is Side.SELL and o.token_id == req.token_id))
        held = sum(-(-o.remaining * o.price // MICRO) for o in resting if o.side is Side.BUY)
        if self.trade_cash + self.credited - held < buy_cost(req):
            self.credited = self.credits(conn)
        return Wallet(cash=self.trade_cash + self.credited, cash_held=held)


def cash_flow(side: Side, price: int, size: int, fee: int) -> int:
    """What one fill moves in the wallet's cash: a BUY pays its notional and fee, a SELL receives
    its notional less the fee."""
    value = notional(price, size)
    return (-value if side is Side.BUY else value) - fee
