"""The executor's in-memory mirror of its own tables (open orders, positions, cash).

The executor is the single writer, so this mirror is authoritative between writes: every
change is committed to SQLite first, then applied here. The planner reads only from it,
which keeps the hot path free of database reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import Connection

from contracts.domain import MarketInfo, Outcome, PositionView, Side, notional
from contracts.order_status import TradeStatus
from contracts.venues import POLYMARKET
from engine.execution import store
from engine.execution.figures import LedgerFigures
from engine.execution.ledger import PositionTotals
from engine.execution.planner import Holdings, WorkingOrder
from engine.execution.store import FillWrite, OrderRow
from storage.engine_stores import claims_store

NO_POSITION = PositionTotals()  # frozen: one shared instance for every token not held
# Closed orders remembered by venue id: the venue's last reports about an order (its cancel
# or fill, echoed) come right after it closes, and would each be a read of the table.
CLOSED_KEPT = 1_000
# Fills remembered as stored, by (trade, order): a fill's later status reports (MINED, CONFIRMED)
# move it without reading it back. A miss only costs that read.
FILLS_KEPT = 10_000


class ExecutionState:
    def __init__(self, mode: str, venue: str = POLYMARKET):
        self.mode = mode
        self.venue = venue  # whose ledger this mirrors: one venue's rows of one mode
        self.orders: dict[int, OrderRow] = {}
        self.by_venue: dict[str, int] = {}
        self.by_key: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.closed: dict[str, OrderRow] = {}  # venue id -> a recently closed order, as stored
        self.fills: dict[tuple[str, int], FillWrite] = {}  # (trade id, order id) -> a recent fill, as stored
        self.positions: dict[tuple[str, str], PositionTotals] = {}
        self.position_market: dict[tuple[str, str], tuple[str, Outcome]] = {}
        self.cash = 0
        self.redeemable = 0  # what the venue owes (open claims): part of equity, not cash
        # Writes so far, per market and in all (a reload): what a decision read is unchanged while
        # they are (engine/trading/passes/event_decisions.py skips it).
        self.changes: dict[str, int] = {}
        self.reloads = 0
        self.order_writes = 0  # every change of the open orders (what reserves cash changes only with it)
        # The gate's figures (exposure, open orders, reserved cash, realized PnL and fees), told every
        # change below so a decision reads them instead of folding the ledger.
        self.figures = LedgerFigures()

    def load(self, conn: Connection) -> None:
        self.order_writes += 1
        self.orders.clear()
        self.figures.clear_orders()
        self.by_venue.clear()
        self.by_key.clear()
        self.closed.clear()
        self.fills.clear()
        for row in store.open_orders(conn, self.mode, self.venue):
            self.track(row)
        self.load_positions(conn)

    def load_positions(self, conn: Connection) -> None:
        """Positions, cash and what the venue owes: what recomputing positions from fills, or
        booking what the venue paid, can change."""
        rows = store.positions(conn, self.mode, self.venue)
        self.reloads += 1
        self.positions = {(p.strategy, p.token_id): p.totals for p in rows}
        self.position_market = {(p.strategy, p.token_id): (p.condition_id, p.outcome) for p in rows}
        self.figures.clear_positions()
        for p in rows:
            self.figures.position(p.strategy, p.token_id, p.condition_id, p.outcome, p.totals)
        self.cash = store.cash(conn, self.mode, self.venue)
        self.redeemable = claims_store.redeemable(conn, self.mode, self.venue)

    # -- orders ------------------------------------------------------------------------

    def track(self, row: OrderRow) -> None:
        """Add or refresh an order; terminal orders leave the mirror (for `closed`: every
        write of an order row is tracked, so what it keeps is the row as stored)."""
        self.changes[row.condition_id] = self.changes.get(row.condition_id, 0) + 1
        self.order_writes += 1
        if row.terminal:
            self.forget(row.id)
            if row.venue_order_id:
                self.closed.pop(row.venue_order_id, None)
                self.closed[row.venue_order_id] = row
                if len(self.closed) > CLOSED_KEPT:
                    del self.closed[next(iter(self.closed))]
            return
        self.orders[row.id] = row
        self.figures.order(row.id, row.strategy, row.condition_id,
                           notional(row.price, row.remaining) if row.side is Side.BUY else 0)
        if row.venue_order_id:
            self.by_venue[row.venue_order_id] = row.id
        self.by_key[(row.strategy, row.condition_id)].add(row.id)

    def forget(self, order_id: int) -> None:
        row = self.orders.pop(order_id, None)
        if row is None:
            return
        self.changes[row.condition_id] = self.changes.get(row.condition_id, 0) + 1
        self.order_writes += 1
        self.figures.forget(order_id)
        if row.venue_order_id:
            self.by_venue.pop(row.venue_order_id, None)
        key = (row.strategy, row.condition_id)
        self.by_key[key].discard(order_id)
        if not self.by_key[key]:
            del self.by_key[key]

    def open_for(self, strategy: str, condition_id: str) -> list[OrderRow]:
        return [self.orders[i] for i in sorted(self.by_key.get((strategy, condition_id), ()))]

    def open_in(self, condition_ids: Collection[str]) -> list[OrderRow]:
        """The open orders in these markets, every strategy's, oldest first: what a check of one
        market's orders reads without walking the whole ledger's (50 quoted markets: 100 orders)."""
        ids = sorted(i for (_, cid), found in self.by_key.items() if cid in condition_ids for i in found)
        return [self.orders[i] for i in ids]

    def working(self, strategy: str, condition_id: str) -> list[WorkingOrder]:
        return as_working(self.open_for(strategy, condition_id))

    def reserved_buy_cash(self) -> int:
        """What every open BUY would pay (kept as orders change: engine/execution/figures.py)."""
        return self.figures.reserved

    def known_fill(self, trade_id: str, order_id: int) -> FillWrite | None:
        return self.fills.get((trade_id, order_id))

    def remember_fill(self, fill: FillWrite) -> None:
        """`fill` as just stored; a FAILED one moves no more, and is forgotten."""
        key = (fill.trade_id, fill.order.id)
        self.fills.pop(key, None)
        if fill.status is TradeStatus.FAILED:
            return
        self.fills[key] = fill
        if len(self.fills) > FILLS_KEPT:
            del self.fills[next(iter(self.fills))]

    def set_position(self, strategy: str, token_id: str, condition_id: str, outcome: Outcome,
                     totals: PositionTotals) -> None:
        self.positions[(strategy, token_id)] = totals
        self.position_market[(strategy, token_id)] = (condition_id, outcome)
        self.figures.position(strategy, token_id, condition_id, outcome, totals)
        self.changes[condition_id] = self.changes.get(condition_id, 0) + 1

    def market_version(self, condition_id: str) -> tuple[int, int]:
        """Equal while no write touched this market's orders or positions (nor a reload the ledger)."""
        return self.reloads, self.changes.get(condition_id, 0)

    def versions(self, condition_ids: Sequence[str]) -> tuple[int, ...]:
        """How many writes touched these markets (and the ledger as a whole, its cash)."""
        return (self.reloads, self.cash, *(self.changes.get(cid, 0) for cid in condition_ids))

    def totals(self, strategy: str, token_id: str) -> PositionTotals:
        return self.positions.get((strategy, token_id), NO_POSITION)

    def holdings(self, strategy: str, market: MarketInfo) -> Holdings:
        return Holdings(yes=self.totals(strategy, market.yes_token).sellable,
                        no=self.totals(strategy, market.no_token).sellable)

    def position_view(self, strategy: str, market: MarketInfo) -> PositionView:
        yes, no = self.totals(strategy, market.yes_token), self.totals(strategy, market.no_token)
        return PositionView(market.condition_id, yes=yes.settled, no=no.settled, yes_pending=yes.pending,
                            no_pending=no.pending, yes_cost=yes.cost, no_cost=no.cost)


def as_working(orders: list[OrderRow]) -> list[WorkingOrder]:
    """Open orders as the planner sees them."""
    return [WorkingOrder(o.client_id, o.token_id, o.side, o.price, o.size, o.filled, o.tif, o.status) for o in orders]
