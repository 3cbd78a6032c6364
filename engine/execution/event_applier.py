"""Applying venue reports to the executor's tables: the one place orders and fills change
after placement. Forward-only statuses and (trade, order)-keyed fills make every report
idempotent, so live events, REST lookups at recovery and replays can all go through here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from contracts.domain import ONE, Outcome, Tif, fmt
from contracts.order_status import RANK, TERMINAL_RANK, OrderStatus, covered, ended, from_venue
from contracts.payouts import Payouts
from engine.execution import store
from engine.execution.bus import FillApplied
from engine.execution.ledger import FillFact, PositionTotals, cash_effect
from engine.execution.planner import TAKE
from engine.execution.state import ExecutionState
from engine.execution.store import FillWrite, OrderRow
from engine.execution.transactions import OrderTracker, Transactions
from engine.failpoints import crash_point
from engine.feeds.catalog import MarketCatalog
from engine.venues.base import (
    OrderEvent,
    TradeEvent,
    TradeStatus,
    VenueEvent,
    VenueOrder,
    VenueOrderStatus,
    VenueTrade,
)
from storage.desk.audit import raise_alert
from storage.engine_stores import claims_store, execution_ledger

log = logging.getLogger("engine.executor.events")
IMPORTED = "imported"


class EventApplier:
    def __init__(self, state: ExecutionState, catalog: MarketCatalog, transactions: Transactions,
                 tracker: OrderTracker, *, mode: str, clock: Callable[[], int],
                 request_lookup: Callable[[str], None]):
        """`request_lookup` asks the venue about an order known only from a trade (its answer
        comes back through `order_report`)."""
        self.state = state
        self.catalog = catalog
        self.transactions = transactions
        self.tracker = tracker
        self.mode = mode
        self.clock = clock
        self.request_lookup = request_lookup
        # Trades for orders we have no row for yet, waiting for the order's own report.
        self.orphans: dict[str, list[VenueTrade]] = {}

    def apply(self, event: VenueEvent) -> None:
        if isinstance(event, OrderEvent):
            self.order_report(event.order)
        elif isinstance(event, TradeEvent):
            self.trade_report(event.trade)

    # -- orders ------------------------------------------------------------------------

    def _find(self, venue_order_id: str) -> OrderRow | None:
        order_id = self.state.by_venue.get(venue_order_id)
        if order_id is not None:
            return self.state.orders[order_id]
        closed = self.state.closed.get(venue_order_id)
        if closed is not None:
            return closed
        with self.transactions.tx() as conn:  # inside an open transaction, its own uncommitted rows count
            return store.order_by_venue_id(conn, self.mode, venue_order_id, self.state.venue)

    def order_report(self, report: VenueOrder) -> OrderRow:
        row = self._find(report.venue_order_id) or self.import_order(report)
        orphans = self.orphans.pop(report.venue_order_id, [])
        filled = max(row.filled, report.filled)
        status = from_venue(report.status, size=row.size, filled=filled, take=row.tif in TAKE)
        # Why the venue ended it, kept on the order (the Orders page's error column).
        why = f"ended by the venue: {report.reason}" if report.reason and RANK[status] >= TERMINAL_RANK else None
        now = self.clock()
        with self.transactions.tx() as conn:
            row = store.advance_row(conn, row.id, status, now, filled=report.filled, error=why, acked=True,
                                    stored=row)
        self.tracker.track(row)
        for trade in orphans:
            self.trade_report(trade)
        return row

    def cancel_acknowledged(self, venue_order_ids: Iterable[str]) -> None:
        """The venue confirmed these cancels: now, and only now, their reservations go."""
        now = self.clock()
        rows = [r for r in (self._find(v) for v in venue_order_ids) if r is not None]
        if not rows:
            return
        with self.transactions.tx() as conn:
            refreshed = [store.advance_row(conn, row.id, ended(size=row.size, filled=row.filled,
                                                               take=row.tif in TAKE), now, acked=True,
                                              stored=row)
                         for row in rows]
        for row in refreshed:
            self.tracker.track(row)

    def import_orphans_as_is(self, venue_order_id: str) -> None:
        """The venue does not know the order of these trades: keep the fills anyway, flagged."""
        trades = self.orphans.pop(venue_order_id, [])
        if not trades:
            return
        first = trades[0]
        total = sum(t.size for t in {t.trade_id: t for t in trades}.values())
        self.import_order(VenueOrder(venue_order_id, first.condition_id, first.token_id, first.side, first.price,
                                     total, total, VenueOrderStatus.MATCHED))
        for trade in trades:
            self.trade_report(trade)

    def import_order(self, report: VenueOrder) -> OrderRow:
        """An order the venue has and we never recorded: import it, flag it, alert."""
        market = self.catalog.by_token(report.token_id)
        outcome = market.outcome_of(report.token_id) if market else Outcome.YES
        now = self.clock()
        with self.transactions.tx() as conn:
            row = store.insert_order(
                conn, client_id=f"imported:{report.venue_order_id}", venue_order_id=report.venue_order_id,
                mode=self.mode, strategy=IMPORTED, condition_id=report.condition_id, token_id=report.token_id,
                outcome=outcome, side=report.side, price=report.price, size=report.size, tif=Tif.GTC,
                post_only=False, payload=None, reason="found at the venue, unknown locally", now=now,
                status=OrderStatus.LIVE, flags=IMPORTED,
            )
            raise_alert(conn, level="warning", source="executor", code="ORDER_IMPORTED",
                        message=f"order {report.venue_order_id} found at the venue but not locally: imported "
                                "and flagged (strategy 'imported'); cancel it from Orders if unwanted")
        self.tracker.track(row)
        return row

    # -- fills -------------------------------------------------------------------------

    def trade_report(self, trade: VenueTrade) -> None:
        row = self._find(trade.venue_order_id)
        if row is None:
            # Its size and status come with the order's own report: hold the trade until then.
            self.orphans.setdefault(trade.venue_order_id, []).append(trade)
            self.request_lookup(trade.venue_order_id)
            return
        crash_point("after_fill_received")
        now = self.clock()
        fill = FillWrite(trade.trade_id, row, trade.price, trade.size, trade.fee, trade.liquidity,
                         trade.status, trade.matched_ms)
        with self.transactions.tx() as conn:
            changed, previous, fill = store.upsert_fill(conn, fill, now)
            if not changed:
                return
            total = execution_ledger.order_fill_total(conn, row.id)
            status = OrderStatus.FILLED if covered(size=row.size, filled=total) else OrderStatus.PARTIALLY_FILLED
            refreshed = store.advance_row(conn, row.id, status, now, filled=total, stored=row)
            totals = store.position_after_fill(conn, fill, previous,
                                               payout=self.catalog.payout(row.condition_id, row.outcome), now=now)
            if previous is None and not trade.fee_known:
                raise_alert(conn, level="critical", source="executor", code="FEE_UNKNOWN",
                            message=f"trade {trade.trade_id} (order {row.client_id}, {row.side.value} "
                                    f"{fmt(trade.size)} at {fmt(trade.price)} in {row.condition_id[:12]}…): the "
                                    "market's fee schedule could not be read from the venue, so this taker "
                                    "fill's fee is booked as 0 and cash may be overstated by it; the next "
                                    "start's wallet sync corrects cash, not PnL")
            if trade.status is TradeStatus.FAILED:
                raise_alert(conn, level="critical", source="executor", code="FILL_FAILED",
                            message=f"trade {trade.trade_id} FAILED on chain after matching: the fill of "
                                    f"order {row.client_id} was reversed (position and cash restored)")
        self.tracker.track(refreshed)
        self.state.set_position(row.strategy, row.token_id, row.condition_id, row.outcome, totals)
        self.state.cash += _cash_delta(fill, previous)
        if previous is None and trade.status is not TradeStatus.FAILED:
            self.transactions.announce(FillApplied(
                row.id, fill.trade_id, row.strategy, row.condition_id, row.token_id, row.outcome, row.side,
                fill.price, fill.size, fill.fee, fill.liquidity, fill.status, fill.matched_at, now))

    # -- resolution --------------------------------------------------------------------

    def settle_market(self, condition_id: str, payouts: Payouts) -> int:
        """A market resolved (final): positions close at its payouts (PnL realized: 1/0, or 0.5/0.5
        for a canceled game) and each that pays becomes a redeem claim on the venue, redeemable
        until the venue pays it (engine/execution/claims.py): nothing is cash yet. Returns what
        became redeemable."""
        self.catalog.mark_resolved(condition_id, payouts)
        now = self.clock()
        owed = 0
        keys = [k for k, (cid, _) in self.state.position_market.items() if cid == condition_id]
        settled: list[tuple[str, str, Outcome, PositionTotals]] = []
        with self.transactions.tx() as conn:
            execution_ledger.record_resolution(conn, mode=self.mode, venue=self.state.venue, condition_id=condition_id,
                                               payout_yes=payouts.yes, payout_no=payouts.no, now=now)
            for strategy, token in keys:
                _, outcome = self.state.position_market[(strategy, token)]
                held = self.state.totals(strategy, token).size
                payout = payouts.of(outcome)
                amount = held * payout // ONE
                if amount > 0 and claims_store.add_claim(conn, mode=self.mode, kind="redeem",
                                                         condition_id=condition_id, strategy=strategy,
                                                         token_id=token, amount=amount,
                                                         ref=f"{condition_id}:{strategy}:{token}", now=now):
                    owed += amount
                totals = store.recompute_position(conn, mode=self.mode, strategy=strategy, token_id=token,
                                                  condition_id=condition_id, outcome=outcome, payout=payout, now=now)
                settled.append((strategy, token, outcome, totals))
        for strategy, token, outcome, totals in settled:  # the mirror changes only after every write succeeded
            self.state.set_position(strategy, token, condition_id, outcome, totals)
        self.state.redeemable += owed
        return owed

def _cash_delta(fill: FillWrite, previous: TradeStatus | None) -> int:
    side = fill.order.side
    after = cash_effect(FillFact(side, fill.price, fill.size, fill.fee, fill.status))
    before = 0 if previous is None else cash_effect(FillFact(side, fill.price, fill.size, fill.fee, previous))
    return after - before
