"""The executor's ledger tables in SQL: orders, fills, positions and the cash ledger.

Only the engine's executor calls the writers here (single writer), each on the connection
of a transaction it opened (storage never opens one of its own for them, so several writes
stay one transaction). Every status write is a compare-and-set on the rank, and fills are
keyed by (trade id, order), so replays and duplicates are harmless.

These run once per order and per fill, millions of times in a backtest: they speak to
sqlite3 straight on the transaction's connection (storage/sqlite/sql.py) and hand back rows as
stored (`sqlite3.Row`, by position or column name); the engine turns them into its own
types (engine/execution/store.py), since storage may not import the engine's domain.
"""

from __future__ import annotations

import json
import sqlite3
from typing import NamedTuple

from sqlalchemy import Connection, text

from contracts.order_status import FILL_RANK, PENDING_FILL, RANK, TERMINAL_RANK, OrderStatus, TradeStatus
from contracts.venues import POLICIES
from storage.sqlite import write_behind
from storage.sqlite.sql import run, run_beside, run_many, scalar

# The columns of an order row, in the order every order read returns them.
ORDER_COLUMNS = ("id, client_id, venue_order_id, mode, strategy, condition_id, token_id, outcome, side, "
                 "price, size, filled, tif, post_only, status, flags, created_at, submitted_at")

# -- orders ----------------------------------------------------------------------------------------


def insert_order(conn: Connection, *, client_id: str, venue_order_id: str | None, mode: str, venue: str, strategy: str,
                 condition_id: str, token_id: str, outcome: str, side: str, price: int, size: int, filled: int,
                 tif: str, post_only: bool, status: OrderStatus, payload: str | None, flags: str,
                 reason: str | None, now: int, submitted_at: int | None, expires_at: int | None,
                 gate: str | None = None) -> int:
    """The new order's id. `gate`: what the risk gate did with the intent it was placed for (None:
    it did not come through the gate)."""
    held = write_behind.of(conn)  # a replay's batch: kept in memory, written at its end
    if held is not None:
        return held.insert_order([
            None, client_id, venue_order_id, mode, venue, strategy, condition_id, token_id, outcome, side, price, size,
            filled, tif, int(post_only), status.value, RANK[status], payload, flags, reason, now, now, submitted_at,
            expires_at, gate, None, None, None, None, None])
    cursor = run(
        conn, """INSERT INTO orders (client_id, venue_order_id, mode, venue, strategy, condition_id, token_id, outcome,
                    side, price, size, filled, tif, post_only, status, status_rank, signed_payload, flags, reason,
                    created_at, updated_at, submitted_at, expires_at, gate)
                 VALUES (:client_id, :venue_order_id, :mode, :venue, :strategy, :condition_id, :token_id, :outcome,
                    :side, :price, :size, :filled, :tif, :post_only, :status, :rank, :payload, :flags, :reason, :now,
                    :now, :submitted_at, :expires_at, :gate)""",
        dict(client_id=client_id, venue_order_id=venue_order_id, mode=mode, venue=venue, strategy=strategy,
             condition_id=condition_id, token_id=token_id, outcome=outcome, side=side, price=price,
             size=size, filled=filled, tif=tif, post_only=int(post_only), status=status.value,
             rank=RANK[status], payload=payload, flags=flags, reason=reason, now=now, submitted_at=submitted_at,
             expires_at=expires_at, gate=gate),
    )
    return int(cursor.lastrowid)  # type: ignore[arg-type]  # set after an INSERT


def advance(conn: Connection, order_id: int, status: OrderStatus, now: int, *, filled: int | None = None,
            error: str | None = None, acked: bool = False) -> bool:
    """Move an order forward (never back); raise `filled` if given. True if the status moved."""
    rank = RANK[status]
    moved = run(
        conn, """UPDATE orders SET status = :status, status_rank = :rank, updated_at = :now,
                    error = COALESCE(:error, error),
                    acked_at = CASE WHEN :acked THEN COALESCE(acked_at, :now) ELSE acked_at END,
                    closed_at = CASE WHEN :rank >= 100 THEN :now ELSE closed_at END,
                    ending_at = CASE WHEN :rank >= 100 AND ending_at IS NULL AND :status != 'FILLED' THEN :now
                                ELSE ending_at END
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
# `_ADVANCE` and when the order's end began, for the order trail (migration 0091): the desk's cancel
# (its cause, and now), or else, for an order ending unfilled, its end. Only these two statements name
# `ending_at`: SQLite maintains an index on every column a statement sets, changed or not, so the index
# the trail reads ends by costs an order's other updates nothing.
_ADVANCE_ENDING = """UPDATE orders SET
        status = CASE WHEN status_rank < :rank THEN :status ELSE status END,
        error = CASE WHEN status_rank < :rank THEN COALESCE(:error, error) ELSE error END,
        end_reason = CASE WHEN status_rank < :rank THEN COALESCE(end_reason, :end_reason) ELSE end_reason END,
        ending_at = CASE WHEN status_rank < :rank AND ending_at IS NULL THEN :now ELSE ending_at END,
        acked_at = CASE WHEN status_rank < :rank AND :acked THEN COALESCE(acked_at, :now) ELSE acked_at END,
        closed_at = CASE WHEN status_rank < :rank AND :rank >= 100 THEN :now ELSE closed_at END,
        filled = CASE WHEN :filled IS NULL THEN filled ELSE MAX(filled, :filled) END,
        updated_at = CASE WHEN status_rank < :rank OR :filled IS NOT NULL THEN :now ELSE updated_at END,
        status_rank = MAX(status_rank, :rank)
    WHERE id = :id"""
_ADVANCE_CLOSING = """UPDATE orders SET
        status = CASE WHEN status_rank < :rank THEN :status ELSE status END,
        error = CASE WHEN status_rank < :rank THEN COALESCE(:error, error) ELSE error END,
        ending_at = CASE WHEN status_rank < :rank AND ending_at IS NULL AND :status != 'FILLED' THEN :now
                    ELSE ending_at END,
        acked_at = CASE WHEN status_rank < :rank AND :acked THEN COALESCE(acked_at, :now) ELSE acked_at END,
        closed_at = CASE WHEN status_rank < :rank AND :rank >= 100 THEN :now ELSE closed_at END,
        filled = CASE WHEN :filled IS NULL THEN filled ELSE MAX(filled, :filled) END,
        updated_at = CASE WHEN status_rank < :rank OR :filled IS NOT NULL THEN :now ELSE updated_at END,
        status_rank = MAX(status_rank, :rank)
    WHERE id = :id"""


def advance_at_once(conn: Connection, order_id: int, status: OrderStatus, now: int, *, filled: int | None,
                    error: str | None, acked: bool, end_reason: str | None = None) -> None:
    """`advance` in one statement (the SET expressions all see the row as it was, like
    `advance`'s two updates in turn). `end_reason`: why the desk is ending it (its first cause
    is kept: a kill does not rename a replace already under way), and `ending_at` when its end
    began (storage/dashboard_queries/order_trail_queries.py)."""
    rank = RANK[status]
    held = write_behind.of(conn)
    if held is not None and held.advance(order_id, status.value, rank, now, filled, error, acked, end_reason):
        return
    params = {"status": status.value, "rank": rank, "now": now, "error": error, "acked": int(acked),
              "filled": filled, "id": order_id}
    execute = run if held is None else run_beside  # (a row not held: the held ones need not be written first)
    if end_reason is not None:
        execute(conn, _ADVANCE_ENDING, {**params, "end_reason": end_reason})
    else:
        execute(conn, _ADVANCE_CLOSING if rank >= TERMINAL_RANK else _ADVANCE, params)


def mark_ending(conn: Connection, order_ids: list[int], end_reason: str, now: int) -> None:
    """Record why the desk is ending these orders, and when (first cause kept), before a cancel whose
    acknowledgement closes them (a kill's cancel-all)."""
    held = write_behind.of(conn)
    if held is not None:
        order_ids = [order_id for order_id in order_ids if not held.mark_ending(order_id, end_reason, now)]
    run_many(conn, """UPDATE orders SET end_reason = COALESCE(end_reason, :why),
                          ending_at = CASE WHEN end_reason IS NULL THEN :now ELSE ending_at END
                      WHERE id = :id""",
             [{"why": end_reason, "now": now, "id": order_id} for order_id in order_ids])


def add_flag(conn: Connection, order_id: int, flag: str, now: int) -> None:
    """Add `flag` to the order's space-separated flags, once."""
    held = write_behind.of(conn)
    if held is not None and held.add_flag(order_id, flag, now):
        return
    execute = run if held is None else run_beside
    execute(conn, """UPDATE orders SET flags = TRIM(flags || ' ' || :flag), updated_at = :now
                 WHERE id = :id AND (' ' || flags || ' ') NOT LIKE ('% ' || :flag || ' %')""",
        {"flag": flag, "now": now, "id": order_id})


def open_order_rows(conn: Connection, mode: str, venue: str) -> list[sqlite3.Row]:
    """The ledger's non-terminal orders (`ORDER_COLUMNS`), oldest first."""
    return run(conn, f"""SELECT {ORDER_COLUMNS} FROM orders WHERE mode = :mode AND venue = :venue
                         AND status_rank < 100 ORDER BY id""", {"mode": mode, "venue": venue}).fetchall()


def count_open(conn: Connection, mode: str | None = None, venue: str | None = None) -> int:
    """Non-terminal orders, of one mode or of all, of one venue or of all."""
    sql = ("SELECT COUNT(*) FROM orders WHERE status_rank < 100" + (" AND mode = :mode" if mode else "")
           + (" AND venue = :venue" if venue else ""))
    return int(scalar(conn, sql, {"mode": mode, "venue": venue}))


def order_row(conn: Connection, order_id: int) -> sqlite3.Row:
    """One order (`ORDER_COLUMNS`) by its id, which must exist."""
    return run(conn, f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = :id", {"id": order_id}).fetchone()


def order_row_by_venue_id(conn: Connection, mode: str, venue_order_id: str,
                          venue: str) -> sqlite3.Row | None:
    return run(conn, f"""SELECT {ORDER_COLUMNS} FROM orders WHERE mode = :mode AND venue = :venue
                         AND venue_order_id = :v""",
               {"mode": mode, "venue": venue, "v": venue_order_id}).fetchone()


# -- fills -----------------------------------------------------------------------------------------


class FillRow(NamedTuple):
    """A fill as the venue reported it, with its order's columns (what `fills` stores). Tuples, not
    dataclasses, for these records: one of each is built per fill, and a tuple costs a fraction."""

    trade_id: str
    order_id: int
    mode: str
    venue: str
    strategy: str
    condition_id: str
    token_id: str
    outcome: str
    side: str
    price: int
    size: int
    fee: int
    liquidity: str
    status: TradeStatus
    matched_at: int


# (settled, pending, cost, realized, fees), as `positions` stores them.
Totals = tuple[int, int, int, int, int]
EARLIEST = -(2**63)  # a match time before every other: a step `after` it asks that no other fill exist


class PositionStep(NamedTuple):
    """A position stepped from `was` to `totals` by one fill, written only where the step holds:
    the stored row is still `was` (`fresh`: there is no row yet, or one of zeros), and, with `after`
    (the fill's (match time, trade id, order id)), no other fill or merge of the position sorts at
    or after it in match order. Otherwise nothing is written: the position must be refolded."""

    mode: str
    venue: str
    strategy: str
    token_id: str
    condition_id: str
    outcome: str
    was: Totals
    totals: Totals
    fresh: bool
    after: tuple[int, str, int] | None


class NewFill(NamedTuple):
    """What `write_new_fill` changed besides the fill: the order's fill total and status when they
    moved (None: unchanged), and whether the position's step was written."""

    order_filled: int | None
    order_status: OrderStatus | None
    position_written: bool


_INSERT_FILL = """INSERT INTO fills (trade_id, order_id, mode, venue, strategy, condition_id, token_id, outcome, side,
                      price, size, fee, liquidity, status, status_rank, matched_at, updated_at)
                  VALUES (:trade_id, :order_id, :mode, :venue, :strategy, :condition_id, :token_id, :outcome, :side,
                      :price, :size, :fee, :liquidity, :status, :rank, :matched_at, :now)
                  ON CONFLICT (trade_id, order_id) DO NOTHING"""
# The order's filled total after a new fill (every fill of it counts: a failed settlement still
# consumed it) and the status it makes, forward only: `_ADVANCE` with the status worked out here, in
# the same statement, from the sum (FILLED from `:full_at` on, which the engine gives). An order it
# does not move is not written.
_FILL_ORDER = """UPDATE orders SET
        status = CASE WHEN status_rank < t.to_rank THEN t.to_status ELSE status END,
        closed_at = CASE WHEN status_rank < t.to_rank AND t.to_rank >= 100 THEN :now ELSE closed_at END,
        filled = MAX(filled, t.total),
        updated_at = :now,
        status_rank = MAX(status_rank, t.to_rank)
    FROM (SELECT total, CASE WHEN total >= :full_at THEN :full ELSE :partial END AS to_status,
                 CASE WHEN total >= :full_at THEN :full_rank ELSE :partial_rank END AS to_rank
          FROM (SELECT COALESCE(SUM(size), 0) AS total FROM fills WHERE order_id = :id)) AS t
    WHERE orders.id = :id AND (orders.status_rank < t.to_rank OR orders.filled < t.total)
    RETURNING filled, status"""
_FILL_STATUSES = {"full": OrderStatus.FILLED.value, "full_rank": RANK[OrderStatus.FILLED],
                  "partial": OrderStatus.PARTIALLY_FILLED.value, "partial_rank": RANK[OrderStatus.PARTIALLY_FILLED]}
_ORDER_STATUSES = {status.value: status for status in OrderStatus}
_MOVE_FILL = """UPDATE fills SET status = :status, status_rank = :rank, updated_at = :now
                WHERE trade_id = :t AND order_id = :o AND status = :previous AND status_rank < :rank"""
# One position's step (see PositionStep): an upsert whose insert needs `fresh` or a row, and whose
# update needs the row as it was; with `:at`, no other fill or merge at or after the fill.
_STEP_POSITION = """INSERT INTO positions (mode, venue, strategy, token_id, condition_id, outcome, settled, pending,
                        cost, realized, fees, updated_at)
                    SELECT :mode, :venue, :strategy, :token, :cid, :outcome, :settled, :pending, :cost, :realized,
                        :fees, :now
                    WHERE (:fresh OR EXISTS (SELECT 1 FROM positions WHERE mode = :mode AND strategy = :strategy
                                                 AND token_id = :token))
                      AND (:at IS NULL OR NOT (
                          EXISTS (SELECT 1 FROM fills WHERE mode = :mode AND strategy = :strategy
                                      AND token_id = :token AND matched_at >= :at
                                      AND (matched_at > :at OR trade_id >= :trade)
                                      AND NOT (trade_id = :trade AND order_id = :order))
                          OR EXISTS (SELECT 1 FROM position_conversions WHERE mode = :mode
                                         AND strategy = :strategy AND token_id = :token AND at >= :at
                                         AND status != 'failed')))
                    ON CONFLICT (mode, strategy, token_id) DO UPDATE SET settled = excluded.settled,
                        pending = excluded.pending, cost = excluded.cost, realized = excluded.realized,
                        fees = excluded.fees, updated_at = excluded.updated_at
                    WHERE settled = :was_settled AND pending = :was_pending AND cost = :was_cost
                        AND realized = :was_realized AND fees = :was_fees"""


def write_new_fill(conn: Connection, fill: FillRow, *, full_at: int, position: PositionStep | None,
                   now: int) -> NewFill | None:
    """A fill first reported, and what it changes, in one trip: the fill, once per (trade, order);
    its order's filled total and status (FILLED once its fills reach `full_at`, else
    PARTIALLY_FILLED; forward only); and, given, its position's step. None: the fill was stored
    before, and nothing is written."""
    if not run(conn, _INSERT_FILL, _fill_params(fill, now)).rowcount:
        return None
    moved = run(conn, _FILL_ORDER, {"id": fill.order_id, "full_at": full_at, "now": now, **_FILL_STATUSES}).fetchone()
    stepped = position is not None and step_position(conn, position, now)
    if moved is None:
        return NewFill(None, None, stepped)
    return NewFill(moved[0], _ORDER_STATUSES[moved[1]], stepped)


def move_fill(conn: Connection, trade_id: str, order_id: int, previous: TradeStatus, status: TradeStatus, *,
              position: PositionStep | None, now: int) -> tuple[bool, bool]:
    """A stored fill's status moved forward from `previous` (compared in the write: a fill stored
    otherwise is not touched), and, given, its position's step. Returns (the fill moved, the
    step was written); nothing more is written when the fill did not move."""
    if not run(conn, _MOVE_FILL, {"status": status.value, "rank": FILL_RANK[status], "now": now, "t": trade_id,
                                  "o": order_id, "previous": previous.value}).rowcount:
        return False, False
    return True, position is not None and step_position(conn, position, now)


def step_position(conn: Connection, step: PositionStep, now: int) -> bool:
    """Write `step` where it holds (PositionStep); False: not written, refold the position."""
    settled, pending, cost, realized, fees = step.totals
    was_settled, was_pending, was_cost, was_realized, was_fees = step.was
    at, trade, order = step.after if step.after is not None else (None, None, None)
    return bool(run(conn, _STEP_POSITION, {
        "mode": step.mode, "venue": step.venue, "strategy": step.strategy, "token": step.token_id,
        "cid": step.condition_id, "outcome": step.outcome, "settled": settled, "pending": pending, "cost": cost,
        "realized": realized, "fees": fees, "now": now, "fresh": int(step.fresh), "at": at, "trade": trade,
        "order": order, "was_settled": was_settled, "was_pending": was_pending, "was_cost": was_cost,
        "was_realized": was_realized, "was_fees": was_fees}).rowcount)


def _fill_params(fill: FillRow, now: int) -> dict[str, object]:
    (trade_id, order_id, mode, venue, strategy, condition_id, token_id, outcome, side, price, size, fee, liquidity,
     status, matched_at) = fill
    return {"trade_id": trade_id, "order_id": order_id, "mode": mode, "venue": venue, "strategy": strategy,
            "condition_id": condition_id, "token_id": token_id, "outcome": outcome, "side": side, "price": price,
            "size": size, "fee": fee, "liquidity": liquidity, "status": status.value, "rank": FILL_RANK[status],
            "matched_at": matched_at, "now": now}


def stored_fill(conn: Connection, trade_id: str, order_id: int) -> tuple[TradeStatus, int, int, int, int] | None:
    """(status, price, size, fee, matched_at) of a stored fill; None: no such fill."""
    row = run(conn, "SELECT status, price, size, fee, matched_at FROM fills WHERE trade_id = :t AND order_id = :o",
              {"t": trade_id, "o": order_id}).fetchone()
    if row is None:
        return None
    status, price, size, fee, matched_at = row
    return TradeStatus(status), price, size, fee, matched_at


def fill_count(conn: Connection, mode: str, venue: str | None = None) -> int:
    """Fills of one mode's ledger, of one venue or (None) of every venue."""
    return int(scalar(conn, "SELECT COUNT(*) FROM fills WHERE mode = :m AND (:v IS NULL OR venue = :v)",
                      {"m": mode, "v": venue}))


def pending_fill_count(conn: Connection, mode: str, venue: str | None = None) -> int:
    """Fills the chain has not settled yet (matched, not yet broadcast, or being retried), of
    one venue's ledger or (None) of every venue's."""
    pending = json.dumps([status.value for status in PENDING_FILL])
    return int(scalar(conn, "SELECT COUNT(*) FROM fills WHERE mode = :m AND (:v IS NULL OR venue = :v) AND status IN "
                            "(SELECT value FROM json_each(:pending))", {"m": mode, "v": venue, "pending": pending}))


def last_fill_at(conn: Connection, mode: str, venue: str | None = None) -> int | None:
    """When the newest fill of the mode (of one venue's ledger, or of every venue's) matched
    (None: no fill yet)."""
    at = conn.execute(text("SELECT MAX(matched_at) FROM fills WHERE mode = :m AND (:v IS NULL OR venue = :v)"),
                      {"m": mode, "v": venue}).scalar()
    return None if at is None else int(at)


def cash_fill_rows(conn: Connection, mode: str, venue: str) -> list[sqlite3.Row]:
    """(side, price, size, fee, status) of every fill that moved cash (not FAILED), in match order."""
    return run(conn, """SELECT side, price, size, fee, status FROM fills WHERE mode = :mode AND venue = :venue
                        AND status != 'FAILED' ORDER BY matched_at, trade_id""",
               {"mode": mode, "venue": venue}).fetchall()


# -- positions -------------------------------------------------------------------------------------

# A position's facts in match order: its fills, and the shares merges took out of it (a sell
# of settled shares at the merge's price for that outcome; cash comes with the venue's payment).
_POSITION_FACTS = """SELECT side, price, size, fee, status, matched_at AS at, trade_id AS tie FROM fills
                     WHERE mode = :mode AND strategy = :strategy AND token_id = :token
                     UNION ALL
                     SELECT 'SELL', price, shares, 0, 'CONFIRMED', at, 'conversion:' || id FROM position_conversions
                     WHERE mode = :mode AND strategy = :strategy AND token_id = :token AND status != 'failed'
                     ORDER BY at, tie"""


def position_fact_rows(conn: Connection, mode: str, strategy: str, token_id: str) -> list[sqlite3.Row]:
    """(side, price, size, fee, status) of a position's fills and merges, in match order."""
    return run(conn, _POSITION_FACTS, {"mode": mode, "strategy": strategy, "token": token_id}).fetchall()


def stored_position(conn: Connection, mode: str, strategy: str, token_id: str) -> tuple[int, int, int, int, int] | None:
    """(settled, pending, cost, realized, fees) as stored; None: no position row."""
    row = run(conn, """SELECT settled, pending, cost, realized, fees FROM positions
                       WHERE mode = :mode AND strategy = :strategy AND token_id = :token""",
              {"mode": mode, "strategy": strategy, "token": token_id}).fetchone()
    return None if row is None else tuple(row)


def store_position(conn: Connection, *, mode: str, venue: str, strategy: str, token_id: str, condition_id: str,
                   outcome: str, settled: int, pending: int, cost: int, realized: int, fees: int, now: int) -> None:
    run(
        conn, """INSERT INTO positions (mode, venue, strategy, token_id, condition_id, outcome, settled, pending,
                    cost, realized, fees, updated_at)
                VALUES (:mode, :venue, :strategy, :token, :cid, :outcome, :settled, :pending, :cost, :realized, :fees,
                    :now)
                ON CONFLICT (mode, strategy, token_id) DO UPDATE SET settled = excluded.settled,
                    pending = excluded.pending, cost = excluded.cost, realized = excluded.realized,
                    fees = excluded.fees, updated_at = excluded.updated_at""",
        dict(mode=mode, venue=venue, strategy=strategy, token=token_id, cid=condition_id, outcome=outcome,
             settled=settled, pending=pending, cost=cost, realized=realized, fees=fees, now=now),
    )


def position_rows(conn: Connection, mode: str, venue: str) -> list[sqlite3.Row]:
    """(strategy, token_id, condition_id, outcome, settled, pending, cost, realized, fees) of every position."""
    return run(conn, """SELECT strategy, token_id, condition_id, outcome, settled, pending, cost, realized, fees
                        FROM positions WHERE mode = :mode AND venue = :venue""",
               {"mode": mode, "venue": venue}).fetchall()


def position_keys_from_fills(conn: Connection, mode: str, venue: str) -> list[tuple[str, str, str, str]]:
    """(strategy, token_id, condition_id, outcome) of every position the fills make."""
    rows = run(conn, """SELECT DISTINCT strategy, token_id, condition_id, outcome FROM fills
                        WHERE mode = :mode AND venue = :venue""", {"mode": mode, "venue": venue})
    return [(r["strategy"], r["token_id"], r["condition_id"], r["outcome"]) for r in rows]


# -- resolutions -----------------------------------------------------------------------------------


def record_resolution(conn: Connection, *, mode: str, venue: str, condition_id: str, payout_yes: int,
                      payout_no: int, now: int) -> None:
    """The ledger closed its positions in a market at these payouts now (the first time is kept: a
    restart that settles again changes nothing)."""
    run(conn, """INSERT INTO resolutions (mode, venue, condition_id, payout_yes, payout_no, at)
                 VALUES (:mode, :venue, :cid, :yes, :no, :now) ON CONFLICT (mode, condition_id) DO NOTHING""",
        {"mode": mode, "venue": venue, "cid": condition_id, "yes": payout_yes, "no": payout_no, "now": now})


# -- cash ------------------------------------------------------------------------------------------


def add_cash_entry(conn: Connection, *, mode: str, kind: str, amount: int, ref: str, note: str | None,
                   now: int, venue: str) -> bool:
    """One ledger entry per (mode, kind, ref): settlements and deposits are never doubled. The
    key has no venue (the table's UNIQUE predates it), so another venue's refs carry its name."""
    return bool(run(
        conn, """INSERT INTO cash_ledger (mode, venue, at, kind, amount, ref, note)
                 VALUES (:mode, :venue, :now, :kind, :amount, :ref, :note)
                 ON CONFLICT (mode, kind, ref) DO NOTHING""",
        {"mode": mode, "venue": venue, "now": now, "kind": kind, "amount": amount, "ref": venue_ref(venue, ref),
         "note": note},
    ).rowcount)


def venue_ref(venue: str, ref: str) -> str:
    """A cash entry's key: the unprefixed venue's (its market ids carry no prefix: Polymarket's) as it always was,
    another venue's prefixed with its name."""
    policy = POLICIES.get(venue)
    return ref if policy is not None and not policy.market_prefix else f"{venue}:{ref}"


def ledger_total(conn: Connection, mode: str, venue: str) -> int:
    """The sum of the ledger's cash entries (fills' cash is not in it)."""
    return int(scalar(conn, "SELECT COALESCE(SUM(amount), 0) FROM cash_ledger WHERE mode = :mode AND venue = :venue",
                      {"mode": mode, "venue": venue}))


def initial_deposit_at(conn: Connection, mode: str, venue: str) -> int | None:
    """When the ledger's cash began (its initial deposit); None: no cash yet."""
    at = conn.execute(text("SELECT at FROM cash_ledger WHERE mode = :m AND kind = 'deposit' AND ref = :ref"),
                      {"m": mode, "ref": venue_ref(venue, "initial")}).scalar()
    return None if at is None else int(at)


def newest_credit_at(conn: Connection, mode: str, venue: str) -> int | None:
    """When the newest venue payment (redemption, merge, rebate, reward) was booked."""
    at = conn.execute(text("SELECT MAX(at) FROM cash_ledger WHERE mode = :m AND venue = :v AND kind IN "
                           "('redemption', 'merge', 'rebate', 'reward')"), {"m": mode, "v": venue}).scalar()
    return None if at is None else int(at)


def legacy_settlement_markets(conn: Connection, mode: str, venue: str) -> set[str]:
    """Markets whose payout an older version of the desk booked as cash at resolution
    ('settlement' entries, ref `<condition id>:...`)."""
    return set(conn.execute(text("""SELECT DISTINCT substr(ref, 1, instr(ref, ':') - 1) FROM cash_ledger
                                    WHERE mode = :m AND venue = :v AND kind = 'settlement'"""),
                            {"m": mode, "v": venue}).scalars())
