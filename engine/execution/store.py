"""The executor's records as the engine's types: orders, fills and positions, over
storage/engine_stores/execution_ledger.py (their SQL), and the positions' upkeep as fills arrive.
Each row is written with the venue its token belongs to (contracts/venues/__init__.py); reads take the
venue of the ledger they load.

Only the executor calls the writers here (single writer), on the connection of its own
transaction. Every status write is a compare-and-set on the rank, and fills are keyed by
(trade id, order), so replays and duplicates are harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from sqlalchemy import Connection

from contracts.domain import Outcome, Side, Tif
from contracts.order_status import FILL_RANK, RANK, TERMINAL_RANK, OrderStatus, covered_at
from contracts.venues import POLYMARKET, venue_of
from engine.execution.ledger import FillFact, PositionTotals, add_fill, cash_effect, fold, restatus
from engine.venues.base import TradeStatus
from storage.engine_stores import execution_ledger as ledger_sql
from storage.engine_stores.execution_ledger import EARLIEST


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


class FillWritten(NamedTuple):
    """What one report of a fill changed, as stored: `previous` is the fill's status before it
    (None: a new fill); `fill` the fill as stored (a status move keeps the price, size, fee and match
    time first stored, whatever a later report says); `order` and `totals` its order and position
    after it."""

    previous: TradeStatus | None
    fill: FillWrite
    order: OrderRow
    totals: PositionTotals


def write_fill(conn: Connection, fill: FillWrite, now: int, *, known: FillWrite | None = None,
               held: PositionTotals | None = None, payout: int | None = None) -> FillWritten | None:
    """A venue's report of a fill, written with everything it changes: the fill, once per (trade,
    order), or its status moved forward; its order's fill total and status; its position (cash is
    the fills'). In the common case that is one call down to the SQL, which runs a statement per
    row it changes and nothing between them that needs the engine.

    `known` is the fill as the executor's mirror stored it (None: not there) and `held` its
    position there (None: none): the writes compare both with the table (compare-and-set), so a
    mirror out of step costs a read, never a wrong row. `payout`: the market's resolution, if
    known (the position is then refolded). None: the report moves nothing."""
    if known is not None and FILL_RANK[fill.status] <= FILL_RANK[known.status]:
        return None  # a report the mirror says is old news
    written = _write_new(conn, fill, held, payout, now) if known is None else \
        _write_move(conn, fill, known, held, payout, now)
    return written if written is not None else _write_read_back(conn, fill, held, payout, now)


def _write_read_back(conn: Connection, fill: FillWrite, held: PositionTotals | None, payout: int | None,
                     now: int) -> FillWritten | None:
    """The fill as the table has it, when the mirror did not know it so (stored before a restart,
    or the mirror out of step), then the write it calls for."""
    stored = ledger_sql.stored_fill(conn, fill.trade_id, fill.order.id)
    if stored is None:
        return _write_new(conn, fill, held, payout, now)
    status, price, size, fee, matched_at = stored
    if FILL_RANK[fill.status] <= FILL_RANK[status]:
        return None
    known = FillWrite(fill.trade_id, fill.order, price, size, fee, fill.liquidity, status, matched_at)
    return _write_move(conn, fill, known, held, payout, now)


def _write_new(conn: Connection, fill: FillWrite, held: PositionTotals | None, payout: int | None,
               now: int) -> FillWritten | None:
    """A fill not stored yet (None: it was), its order and its position: stepped by the fill when
    it is the latest in match order, refolded otherwise."""
    order = fill.order
    stepped = None if payout is not None else \
        add_fill(held or NO_POSITION, FillFact(order.side, fill.price, fill.size, fill.fee, fill.status))
    # A position the mirror does not hold is stepped from nothing: only if no other fill of it exists.
    after = (EARLIEST if held is None else fill.matched_at, fill.trade_id, order.id)
    step = None if stepped is None else _step(order, held, stepped, after)
    wrote = ledger_sql.write_new_fill(conn, _fill_row(fill), full_at=covered_at(order.size), position=step, now=now)
    if wrote is None:
        return None
    moved = order if wrote.order_status is None else advanced(order, wrote.order_status, wrote.order_filled)
    totals = stepped if stepped is not None and wrote.position_written else _refold(conn, order, payout, now)
    return FillWritten(None, fill, moved, totals)


def _write_move(conn: Connection, fill: FillWrite, known: FillWrite, held: PositionTotals | None,
                payout: int | None, now: int) -> FillWritten | None:
    """A stored fill's status moved on from `known`'s (None: the table has another) and its
    position: shares moved between pending and settled, or refolded when a FAILED status is
    involved. The order is unchanged: its fill total counts the fill whatever its status."""
    order = fill.order
    stored = replace(fill, price=known.price, size=known.size, fee=known.fee, matched_at=known.matched_at)
    fact = FillFact(order.side, stored.price, stored.size, stored.fee, stored.status)
    totals = None if payout is not None or held is None else restatus(held, fact, known.status)
    step = None if totals is None or totals == held else _step(order, held, totals, None)
    moved, stepped = ledger_sql.move_fill(conn, fill.trade_id, order.id, known.status, fill.status, position=step,
                                          now=now)
    if not moved:
        return None
    if totals is None or (step is not None and not stepped):
        totals = _refold(conn, order, payout, now)
    return FillWritten(known.status, stored, order, totals)


NO_POSITION = PositionTotals()  # what a position the mirror does not hold is stepped from


def _step(order: OrderRow, held: PositionTotals | None, totals: PositionTotals,
          after: tuple[int, str, int] | None) -> ledger_sql.PositionStep:
    was = held or NO_POSITION
    return ledger_sql.PositionStep(
        mode=order.mode, venue=venue_of(order.token_id), strategy=order.strategy, token_id=order.token_id,
        condition_id=order.condition_id, outcome=order.outcome.value,
        was=(was.settled, was.pending, was.cost, was.realized, was.fees),
        totals=(totals.settled, totals.pending, totals.cost, totals.realized, totals.fees), fresh=held is None,
        after=after)


def _refold(conn: Connection, order: OrderRow, payout: int | None, now: int) -> PositionTotals:
    return recompute_position(conn, mode=order.mode, strategy=order.strategy, token_id=order.token_id,
                              condition_id=order.condition_id, outcome=order.outcome, payout=payout, now=now)


def _fill_row(fill: FillWrite) -> ledger_sql.FillRow:
    order = fill.order
    return ledger_sql.FillRow(fill.trade_id, order.id, order.mode, venue_of(order.token_id), order.strategy,
                              order.condition_id, order.token_id, order.outcome.value, order.side.value, fill.price,
                              fill.size, fill.fee, fill.liquidity, fill.status, fill.matched_at)


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
