"""SQL for the executor's tables: orders, fills, positions, cash ledger, snapshots.

Only the executor calls the writers here (single writer). Every status write is a
compare-and-set on the rank, and fills are keyed by (trade id, order), so replays and
duplicates are harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from engine.domain import Outcome, Side, Tif
from engine.execution.ledger import FillFact, PositionTotals, add_fill, cash_effect, fold, restatus
from engine.contracts.order_status import FILL_RANK, PENDING_FILL, RANK, TERMINAL_RANK, OrderStatus
from engine.venues.base import TradeStatus
from storage.sql import run, scalar


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


_ORDER_COLUMNS = ("id, client_id, venue_order_id, mode, strategy, condition_id, token_id, outcome, side, "
                  "price, size, filled, tif, post_only, status, flags, created_at, submitted_at")


_OUTCOMES = {o.value: o for o in Outcome}
_SIDES = {s.value: s for s in Side}
_TIFS = {t.value: t for t in Tif}
_STATUSES = {s.value: s for s in OrderStatus}


def _order(row: Any) -> OrderRow:
    """An order from a row of `_ORDER_COLUMNS`, in that order (this runs for every order
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
                 submitted_at: int | None = None, expires_at: int | None = None) -> OrderRow:
    """The new order's row, as stored (built here, not read back: only its id comes from the
    table). `submitted_at` is for a placement recorded in the transaction that sends it;
    `expires_at` (epoch ms) is a GTD order's expiry, NULL for every other order."""
    cursor = run(
        conn, """INSERT INTO orders (client_id, venue_order_id, mode, strategy, condition_id, token_id, outcome,
                    side, price, size, filled, tif, post_only, status, status_rank, signed_payload, flags, reason,
                    created_at, updated_at, submitted_at, expires_at)
                 VALUES (:client_id, :venue_order_id, :mode, :strategy, :condition_id, :token_id, :outcome, :side,
                    :price, :size, :filled, :tif, :post_only, :status, :rank, :payload, :flags, :reason, :now, :now,
                    :submitted_at, :expires_at)""",
        dict(client_id=client_id, venue_order_id=venue_order_id, mode=mode, strategy=strategy,
             condition_id=condition_id, token_id=token_id, outcome=outcome.value, side=side.value, price=price,
             size=size, filled=filled, tif=tif.value, post_only=int(post_only), status=status.value,
             rank=RANK[status], payload=payload, flags=flags, reason=reason, now=now, submitted_at=submitted_at,
             expires_at=expires_at),
    )
    return OrderRow(cursor.lastrowid, client_id, venue_order_id, mode, strategy, condition_id, token_id,  # type: ignore[arg-type]
                    outcome, side, price, size, filled, tif, bool(post_only), status, flags, now, submitted_at)


def advance(conn: Connection, order_id: int, status: OrderStatus, now: int, *, filled: int | None = None,
            error: str | None = None, acked: bool = False) -> bool:
    """Move an order forward (never back); raise `filled` if given. True if the status moved."""
    rank = RANK[status]
    moved = run(
        conn, """UPDATE orders SET status = :status, status_rank = :rank, updated_at = :now,
                    error = COALESCE(:error, error),
                    acked_at = CASE WHEN :acked THEN COALESCE(acked_at, :now) ELSE acked_at END,
                    closed_at = CASE WHEN :rank >= 100 THEN :now ELSE closed_at END
                WHERE id = :id AND status_rank < :rank""",
        {"status": status.value, "rank": rank, "now": now, "error": error, "acked": int(acked), "id": order_id},
    ).rowcount
    if filled is not None:
        run(conn, "UPDATE orders SET filled = MAX(filled, :filled), updated_at = :now WHERE id = :id",
            {"filled": filled, "now": now, "id": order_id})
    return bool(moved)


_ADVANCE = """UPDATE orders SET
        status = CASE WHEN status_rank < :rank THEN :status ELSE status END,
        error = CASE WHEN status_rank < :rank THEN COALESCE(:error, error) ELSE error END,
        acked_at = CASE WHEN status_rank < :rank AND :acked THEN COALESCE(acked_at, :now) ELSE acked_at END,
        closed_at = CASE WHEN status_rank < :rank AND :rank >= 100 THEN :now ELSE closed_at END,
        filled = CASE WHEN :filled IS NULL THEN filled ELSE MAX(filled, :filled) END,
        updated_at = CASE WHEN status_rank < :rank OR :filled IS NOT NULL THEN :now ELSE updated_at END,
        status_rank = MAX(status_rank, :rank)
    WHERE id = :id"""


def advance_row(conn: Connection, order_id: int, status: OrderStatus, now: int, *, filled: int | None = None,
                error: str | None = None, acked: bool = False, stored: OrderRow | None = None) -> OrderRow:
    """`advance` then the order as stored, in one statement instead of up to three (the SET
    expressions all see the row as it was, like `advance`'s two updates in turn).

    `stored` is the order as it stands in the table right now (the executor's mirror, which
    every order write refreshes): the result is then worked out from it, as the UPDATE moves
    the row, instead of read back (the read-back was a third of a backtest's statements), and
    a report that moves nothing (a venue repeating what we know) writes nothing: the row,
    its `updated_at` included, keeps its last change. Without `stored` the row is read back
    (a RETURNING clause measured slower than the read)."""
    after = None if stored is None else advanced(stored, status, filled)
    if after is not None and after is stored:
        return after
    run(conn, _ADVANCE, {"status": status.value, "rank": RANK[status], "now": now, "error": error,
                         "acked": int(acked), "filled": filled, "id": order_id})
    return order_by_id(conn, order_id) if after is None else after


def advanced(order: OrderRow, status: OrderStatus, filled: int | None) -> OrderRow:
    """`order` as `_ADVANCE` leaves it (the OrderRow fields): the status only moves forward,
    `filled` only rises."""
    moved = RANK[status] > RANK[order.status]
    higher = filled is not None and filled > order.filled
    if not moved and not higher:
        return order
    o = order  # built field by field: dataclasses.replace costs several times more, on every order write
    return OrderRow(o.id, o.client_id, o.venue_order_id, o.mode, o.strategy, o.condition_id, o.token_id, o.outcome,
                    o.side, o.price, o.size, filled if higher else o.filled, o.tif, o.post_only,  # type: ignore[arg-type]
                    status if moved else o.status, o.flags, o.created_at, o.submitted_at)


def add_flag(conn: Connection, order_id: int, flag: str, now: int) -> None:
    run(conn, """UPDATE orders SET flags = TRIM(flags || ' ' || :flag), updated_at = :now
                 WHERE id = :id AND (' ' || flags || ' ') NOT LIKE ('% ' || :flag || ' %')""",
        {"flag": flag, "now": now, "id": order_id})


def open_orders(conn: Connection, mode: str) -> list[OrderRow]:
    rows = run(conn, f"SELECT {_ORDER_COLUMNS} FROM orders WHERE mode = :mode AND status_rank < 100 ORDER BY id",
               {"mode": mode})
    return [_order(r) for r in rows]


def count_open(conn: Connection, mode: str | None = None) -> int:
    sql = "SELECT COUNT(*) FROM orders WHERE status_rank < 100" + (" AND mode = :mode" if mode else "")
    return int(scalar(conn, sql, {"mode": mode}))


def order_by_id(conn: Connection, order_id: int) -> OrderRow:
    return _order(run(conn, f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = :id", {"id": order_id}).fetchone())


def order_by_venue_id(conn: Connection, mode: str, venue_order_id: str) -> OrderRow | None:
    row = run(conn, f"SELECT {_ORDER_COLUMNS} FROM orders WHERE mode = :mode AND venue_order_id = :v",
              {"mode": mode, "v": venue_order_id}).fetchone()
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
    rank = FILL_RANK[fill.status]
    inserted = run(
        conn, """INSERT INTO fills (trade_id, order_id, mode, strategy, condition_id, token_id, outcome, side, price,
                    size, fee, liquidity, status, status_rank, matched_at, updated_at)
                VALUES (:trade_id, :order_id, :mode, :strategy, :cid, :token, :outcome, :side, :price, :size, :fee,
                    :liquidity, :status, :rank, :matched_at, :now)
                ON CONFLICT (trade_id, order_id) DO NOTHING""",
        dict(trade_id=fill.trade_id, order_id=order.id, mode=order.mode, strategy=order.strategy,
             cid=order.condition_id, token=order.token_id, outcome=order.outcome.value, side=order.side.value,
             price=fill.price, size=fill.size, fee=fill.fee, liquidity=fill.liquidity, status=fill.status.value,
             rank=rank, matched_at=fill.matched_at, now=now),
    ).rowcount
    if inserted:
        return True, None, fill
    previous, price, size, fee, matched_at = run(
        conn, "SELECT status, price, size, fee, matched_at FROM fills WHERE trade_id = :t AND order_id = :o",
        {"t": fill.trade_id, "o": order.id}).fetchone()
    stored = replace(fill, price=price, size=size, fee=fee, matched_at=matched_at)
    moved = run(
        conn, """UPDATE fills SET status = :status, status_rank = :rank, updated_at = :now
                WHERE trade_id = :t AND order_id = :o AND status_rank < :rank""",
        {"status": fill.status.value, "rank": rank, "now": now, "t": fill.trade_id, "o": order.id},
    ).rowcount
    return bool(moved), TradeStatus(previous), stored


def fill_count(conn: Connection, mode: str) -> int:
    return int(scalar(conn, "SELECT COUNT(*) FROM fills WHERE mode = :m", {"m": mode}))


def pending_fill_count(conn: Connection, mode: str) -> int:
    """Fills the chain has not settled yet (matched, not yet broadcast, or being retried)."""
    pending = json.dumps([status.value for status in PENDING_FILL])
    return int(scalar(conn, "SELECT COUNT(*) FROM fills WHERE mode = :m AND status IN "
                            "(SELECT value FROM json_each(:pending))", {"m": mode, "pending": pending}))


def order_fill_total(conn: Connection, order_id: int) -> int:
    """Everything the venue matched against the order (a failed settlement still consumed it)."""
    return int(scalar(conn, "SELECT COALESCE(SUM(size), 0) FROM fills WHERE order_id = :id", {"id": order_id}))


def _fill_facts(conn: Connection, where: str, params: dict[str, Any]) -> list[FillFact]:
    rows = run(conn, f"SELECT side, price, size, fee, status FROM fills WHERE {where} ORDER BY matched_at, trade_id",
               params)
    return [FillFact(Side(r["side"]), r["price"], r["size"], r["fee"], TradeStatus(r["status"])) for r in rows]


# A position's facts in match order: its fills, and the shares merges took out of it (a sell
# of settled shares at the merge's price for that outcome; cash comes with the venue's payment).
_POSITION_FACTS = """SELECT side, price, size, fee, status, matched_at AS at, trade_id AS tie FROM fills
                     WHERE mode = :mode AND strategy = :strategy AND token_id = :token
                     UNION ALL
                     SELECT 'SELL', price, shares, 0, 'CONFIRMED', at, 'conversion:' || id FROM position_conversions
                     WHERE mode = :mode AND strategy = :strategy AND token_id = :token AND status != 'failed'
                     ORDER BY at, tie"""


def position_facts(conn: Connection, mode: str, strategy: str, token_id: str) -> list[FillFact]:
    rows = run(conn, _POSITION_FACTS, {"mode": mode, "strategy": strategy, "token": token_id})
    return [FillFact(Side(r["side"]), r["price"], r["size"], r["fee"], TradeStatus(r["status"])) for r in rows]


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
    stored = _stored_position(conn, order.mode, order.strategy, order.token_id) if payout is None else None
    totals: PositionTotals | None = None
    if stored is not None and previous is not None:
        totals = restatus(stored, fact, previous)
    elif stored is not None and not _fills_at_or_after(conn, fill):
        totals = add_fill(stored, fact)
    if totals is None:
        return recompute_position(conn, mode=order.mode, strategy=order.strategy, token_id=order.token_id,
                                  condition_id=order.condition_id, outcome=order.outcome, payout=payout, now=now)
    _store_position(conn, order.mode, order.strategy, order.token_id, order.condition_id, order.outcome, totals, now)
    return totals


def _stored_position(conn: Connection, mode: str, strategy: str, token_id: str) -> PositionTotals | None:
    row = run(conn, """SELECT settled, pending, cost, realized, fees FROM positions
                       WHERE mode = :mode AND strategy = :strategy AND token_id = :token""",
              {"mode": mode, "strategy": strategy, "token": token_id}).fetchone()
    return None if row is None else PositionTotals(*row)


def _fills_at_or_after(conn: Connection, fill: FillWrite) -> bool:
    """Whether another fill of the position sorts at or after this one in match order
    (ties included: their order would be arbitrary, so the caller refolds)."""
    order = fill.order
    return scalar(conn, """SELECT EXISTS (SELECT 1 FROM fills WHERE mode = :mode AND strategy = :strategy
                               AND token_id = :token AND matched_at >= :at
                               AND (matched_at > :at OR trade_id >= :trade)
                               AND NOT (trade_id = :trade AND order_id = :order))
                           OR EXISTS (SELECT 1 FROM position_conversions WHERE mode = :mode
                               AND strategy = :strategy AND token_id = :token AND at >= :at
                               AND status != 'failed')""",
                  {"mode": order.mode, "strategy": order.strategy, "token": order.token_id,
                   "at": fill.matched_at, "trade": fill.trade_id, "order": order.id}) == 1


def _store_position(conn: Connection, mode: str, strategy: str, token_id: str, condition_id: str,
                    outcome: Outcome, totals: PositionTotals, now: int) -> None:
    run(
        conn, """INSERT INTO positions (mode, strategy, token_id, condition_id, outcome, settled, pending, cost,
                    realized, fees, updated_at)
                VALUES (:mode, :strategy, :token, :cid, :outcome, :settled, :pending, :cost, :realized, :fees, :now)
                ON CONFLICT (mode, strategy, token_id) DO UPDATE SET settled = excluded.settled,
                    pending = excluded.pending, cost = excluded.cost, realized = excluded.realized,
                    fees = excluded.fees, updated_at = excluded.updated_at""",
        dict(mode=mode, strategy=strategy, token=token_id, cid=condition_id, outcome=outcome.value,
             settled=totals.settled, pending=totals.pending, cost=totals.cost, realized=totals.realized,
             fees=totals.fees, now=now),
    )


@dataclass(frozen=True, slots=True)
class PositionRow:
    strategy: str
    token_id: str
    condition_id: str
    outcome: Outcome
    totals: PositionTotals


def positions(conn: Connection, mode: str) -> list[PositionRow]:
    rows = run(conn, """SELECT strategy, token_id, condition_id, outcome, settled, pending, cost, realized, fees
                        FROM positions WHERE mode = :mode""", {"mode": mode})
    return [PositionRow(r["strategy"], r["token_id"], r["condition_id"], Outcome(r["outcome"]),
                        PositionTotals(r["settled"], r["pending"], r["cost"], r["realized"], r["fees"])) for r in rows]


def position_keys_from_fills(conn: Connection, mode: str) -> list[tuple[str, str, str, Outcome]]:
    rows = run(conn, "SELECT DISTINCT strategy, token_id, condition_id, outcome FROM fills WHERE mode = :mode",
               {"mode": mode})
    return [(r["strategy"], r["token_id"], r["condition_id"], Outcome(r["outcome"])) for r in rows]


# -- cash ------------------------------------------------------------------------------


def add_cash_entry(conn: Connection, *, mode: str, kind: str, amount: int, ref: str, note: str | None,
                   now: int) -> bool:
    """One ledger entry per (mode, kind, ref): settlements and deposits are never doubled."""
    return bool(run(
        conn, """INSERT INTO cash_ledger (mode, at, kind, amount, ref, note) VALUES (:mode, :now, :kind, :amount, :ref, :note)
                ON CONFLICT (mode, kind, ref) DO NOTHING""",
        {"mode": mode, "now": now, "kind": kind, "amount": amount, "ref": ref, "note": note},
    ).rowcount)


def cash(conn: Connection, mode: str) -> int:
    """Ledger entries plus every fill's cash effect (ghost fills excluded)."""
    ledger = scalar(conn, "SELECT COALESCE(SUM(amount), 0) FROM cash_ledger WHERE mode = :mode", {"mode": mode})
    facts = _fill_facts(conn, "mode = :mode AND status != 'FAILED'", {"mode": mode})
    return int(ledger) + sum(cash_effect(f) for f in facts)
