"""The executor's records as the engine's types: orders, fills and positions, over
storage/engine_stores/execution_ledger.py (their SQL), and the positions' upkeep as fills arrive.
Each row is written with the venue its token belongs to (contracts/venues.py); reads take the
venue of the ledger they load.

Only the executor calls the writers here (single writer), on the connection of its own
transaction. Every status write is a compare-and-set on the rank, and fills are keyed by
(trade id, order), so replays and duplicates are harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from contracts.domain import Outcome, Side, Tif
from contracts.order_status import RANK, TERMINAL_RANK, OrderStatus
from contracts.venues import POLYMARKET, venue_of
from engine.execution.ledger import FillFact, PositionTotals, add_fill, cash_effect, fold, restatus
from engine.venues.base import TradeStatus
from storage.engine_stores import execution_ledger as ledger_sql


@dataclass(slots=True)
class OrderRow:
    id: int
    client_id: str
    venue_order_id: str | None
    mode: str
    strategy: str
    condition_id: str
    token_id: str
    outcome: Outcome
    side: Side
    price: int
    size: int
    filled: int
    tif: Tif
    post_only: bool
    status: OrderStatus
    flags: str
    created_at: int
    submitted_at: int | None

    @property
    def remaining(self) -> int:
        return max(0, self.size - self.filled)

    @property
    def terminal(self) -> bool:
        return RANK[self.status] >= TERMINAL_RANK


_OUTCOMES = {o.value: o for o in Outcome}
_SIDES = {s.value: s for s in Side}
_TIFS = {t.value: t for t in Tif}
_STATUSES = {s.value: s for s in OrderStatus}


def _order(row: Any) -> OrderRow:
    """An order from a row of `ORDER_COLUMNS`, in that order (this runs for every order
    write: positions and dict lookups, not names and Enum calls, keep it cheap)."""
    (id_, client_id, venue_order_id, mode, strategy, condition_id, token_id, outcome, side, price, size, filled,
     tif, post_only, status, flags, created_at, submitted_at) = row
    return OrderRow(id_, client_id, venue_order_id, mode, strategy, condition_id, token_id, _OUTCOMES[outcome],
                    _SIDES[side], price, size, filled, _TIFS[tif], bool(post_only), _STATUSES[status], flags,
                    created_at, submitted_at)


# -- orders ----------------------------------------------------------------------------


def insert_order(conn: Connection, *, client_id: str, venue_order_id: str | None, mode: str, strategy: str,
                 condition_id: str, token_id: str, outcome: Outcome, side: Side, price: int, size: int,
                 tif: Tif, post_only: bool, payload: str | None, reason: str | None, now: int,
                 status: OrderStatus = OrderStatus.PENDING_SUBMIT, filled: int = 0, flags: str = "",
                 submitted_at: int | None = None, expires_at: int | None = None,
                 gate: str | None = None) -> OrderRow:
    """The new order's row, as stored (built here, not read back: only its id comes from the
    table). `submitted_at` is for a placement recorded in the transaction that sends it;
    `expires_at` (epoch ms) is a GTD order's expiry, NULL for every other order; `gate` what the
    risk gate did with a strategy's intent (None for an order that did not come through it)."""
    order_id = ledger_sql.insert_order(
        conn, client_id=client_id, venue_order_id=venue_order_id, mode=mode, venue=venue_of(token_id),
        strategy=strategy, condition_id=condition_id, token_id=token_id, outcome=outcome.value, side=side.value,
        price=price, size=size, filled=filled, tif=tif.value, post_only=post_only, status=status, payload=payload,
        flags=flags, reason=reason, now=now, submitted_at=submitted_at, expires_at=expires_at, gate=gate)
    return OrderRow(order_id, client_id, venue_order_id, mode, strategy, condition_id, token_id, outcome, side,
                    price, size, filled, tif, bool(post_only), status, flags, now, submitted_at)


def advance_row(conn: Connection, order_id: int, status: OrderStatus, now: int, *, filled: int | None = None,
                error: str | None = None, acked: bool = False, stored: OrderRow | None = None,
                end_reason: str | None = None) -> OrderRow:
    """`advance` then the order as stored, in one statement instead of up to three.

    `stored` is the order as it stands in the table right now (the executor's mirror, which
    every order write refreshes): the result is then worked out from it, as the UPDATE moves
    the row, instead of read back (the read-back was a third of a backtest's statements), and
    a report that moves nothing (a venue repeating what we know) writes nothing: the row,
    its `updated_at` included, keeps its last change. Without `stored` the row is read back
    (a RETURNING clause measured slower than the read)."""
    after = None if stored is None else advanced(stored, status, filled)
    if after is not None and after is stored:
        return after
    ledger_sql.advance_at_once(conn, order_id, status, now, filled=filled, error=error, acked=acked,
                               end_reason=end_reason)
    return order_by_id(conn, order_id) if after is None else after


def advanced(order: OrderRow, status: OrderStatus, filled: int | None) -> OrderRow:
    """`order` as `advance_row` leaves it (the OrderRow fields): the status only moves forward,
    `filled` only rises."""
    moved = RANK[status] > RANK[order.status]
    higher = filled is not None and filled > order.filled
    if not moved and not higher:
        return order
    o = order  # built field by field: dataclasses.replace costs several times more, on every order write
    return OrderRow(o.id, o.client_id, o.venue_order_id, o.mode, o.strategy, o.condition_id, o.token_id, o.outcome,
                    o.side, o.price, o.size, filled if higher else o.filled, o.tif, o.post_only,  # type: ignore[arg-type]  # the row's own typed fields, copied; filled is the higher int
                    status if moved else o.status, o.flags, o.created_at, o.submitted_at)


def open_orders(conn: Connection, mode: str, venue: str = POLYMARKET) -> list[OrderRow]:
    return [_order(r) for r in ledger_sql.open_order_rows(conn, mode, venue)]


def order_by_id(conn: Connection, order_id: int) -> OrderRow:
    return _order(ledger_sql.order_row(conn, order_id))


def order_by_venue_id(conn: Connection, mode: str, venue_order_id: str, venue: str = POLYMARKET) -> OrderRow | None:
    row = ledger_sql.order_row_by_venue_id(conn, mode, venue_order_id, venue)
    return None if row is None else _order(row)


# -- fills -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FillWrite:
    trade_id: str
    order: OrderRow
    price: int
    size: int
    fee: int
    liquidity: str
    status: TradeStatus
    matched_at: int


def upsert_fill(conn: Connection, fill: FillWrite, now: int) -> tuple[bool, TradeStatus | None, FillWrite]:
    """Insert a fill once per (trade, order), or move its status forward.

    Returns (changed, previous status, the fill as stored): previous is None for a new fill;
    a status move keeps the price, size, fee and match time first stored, whatever a later
    report says, and the stored fill carries them.
    """
    order = fill.order
    if ledger_sql.insert_fill(conn, trade_id=fill.trade_id, order_id=order.id, mode=order.mode,
                              venue=venue_of(order.token_id), strategy=order.strategy,
                              condition_id=order.condition_id, token_id=order.token_id, outcome=order.outcome.value,
                              side=order.side.value, price=fill.price, size=fill.size, fee=fill.fee,
                              liquidity=fill.liquidity, status=fill.status, matched_at=fill.matched_at,
                              now=now):
        return True, None, fill
    previous, price, size, fee, matched_at = ledger_sql.stored_fill(conn, fill.trade_id, order.id)
    stored = replace(fill, price=price, size=size, fee=fee, matched_at=matched_at)
    moved = ledger_sql.advance_fill(conn, fill.trade_id, order.id, fill.status, now)
    return moved, previous, stored


def _fact(row: Any) -> FillFact:
    return FillFact(Side(row["side"]), row["price"], row["size"], row["fee"], TradeStatus(row["status"]))


def position_facts(conn: Connection, mode: str, strategy: str, token_id: str) -> list[FillFact]:
    return [_fact(r) for r in ledger_sql.position_fact_rows(conn, mode, strategy, token_id)]


def recompute_position(conn: Connection, *, mode: str, strategy: str, token_id: str, condition_id: str,
                       outcome: Outcome, payout: int | None, now: int) -> PositionTotals:
    """Rebuild one position from its fills and merges (and its market's resolution) and store it."""
    totals = fold(position_facts(conn, mode, strategy, token_id), payout)
    _store_position(conn, mode, strategy, token_id, condition_id, outcome, totals, now)
    return totals


def position_after_fill(conn: Connection, fill: FillWrite, previous: TradeStatus | None, *, payout: int | None,
                        now: int) -> PositionTotals:
    """The position of a fill as `upsert_fill` stored it (new, or its status moved), stored.

    The common cases step the stored position (always a fold of its fills) by one fill: a new
    fill later in match order than all the others, or a status move that leaves its shares,
    cost and fee standing. Anything else (an earlier fill, a FAILED one, a resolved market)
    refolds every fill, so the answer is always fold(fills): refolding on every fill made a
    position's upkeep grow with its history."""
    order = fill.order
    fact = FillFact(order.side, fill.price, fill.size, fill.fee, fill.status)
    row = ledger_sql.stored_position(conn, order.mode, order.strategy, order.token_id) if payout is None else None
    stored = None if row is None else PositionTotals(*row)
    totals: PositionTotals | None = None
    if stored is not None and previous is not None:
        totals = restatus(stored, fact, previous)
    elif stored is not None and not ledger_sql.fills_at_or_after(
            conn, mode=order.mode, strategy=order.strategy, token_id=order.token_id, matched_at=fill.matched_at,
            trade_id=fill.trade_id, order_id=order.id):
        totals = add_fill(stored, fact)
    if totals is None:
        return recompute_position(conn, mode=order.mode, strategy=order.strategy, token_id=order.token_id,
                                  condition_id=order.condition_id, outcome=order.outcome, payout=payout, now=now)
    _store_position(conn, order.mode, order.strategy, order.token_id, order.condition_id, order.outcome, totals, now)
    return totals


def _store_position(conn: Connection, mode: str, strategy: str, token_id: str, condition_id: str,
                    outcome: Outcome, totals: PositionTotals, now: int) -> None:
    ledger_sql.store_position(conn, mode=mode, venue=venue_of(token_id), strategy=strategy, token_id=token_id,
                              condition_id=condition_id, outcome=outcome.value, settled=totals.settled,
                              pending=totals.pending, cost=totals.cost, realized=totals.realized, fees=totals.fees,
                              now=now)


@dataclass(frozen=True, slots=True)
class PositionRow:
    strategy: str
    token_id: str
    condition_id: str
    outcome: Outcome
    totals: PositionTotals


def positions(conn: Connection, mode: str, venue: str = POLYMARKET) -> list[PositionRow]:
    return [PositionRow(r["strategy"], r["token_id"], r["condition_id"], Outcome(r["outcome"]),
                        PositionTotals(r["settled"], r["pending"], r["cost"], r["realized"], r["fees"]))
            for r in ledger_sql.position_rows(conn, mode, venue)]


def position_keys_from_fills(conn: Connection, mode: str,
                             venue: str = POLYMARKET) -> list[tuple[str, str, str, Outcome]]:
    return [(strategy, token, condition_id, Outcome(outcome))
            for strategy, token, condition_id, outcome in ledger_sql.position_keys_from_fills(conn, mode, venue)]


# -- cash ------------------------------------------------------------------------------


def cash(conn: Connection, mode: str, venue: str = POLYMARKET) -> int:
    """Ledger entries plus every fill's cash effect (ghost fills excluded), of one venue's ledger."""
    fills = sum(cash_effect(_fact(r)) for r in ledger_sql.cash_fill_rows(conn, mode, venue))
    return ledger_sql.ledger_total(conn, mode, venue) + fills
