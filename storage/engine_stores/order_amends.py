"""Amends of the executor's resting orders in SQL (`order_amends`, migration 0166), and the order row's
new terms once the venue took one: the executor writes them (single writer), each on the connection of a
transaction it opened. An amend's status moves once, from `pending` to where it ended, never back."""

from __future__ import annotations

import sqlite3

from sqlalchemy import Connection

from storage.sqlite.sql import run

ENDS = ("applied", "refused", "lost", "ended")


def insert_amend(conn: Connection, *, order_id: int, mode: str, venue: str, old_price: int, old_size: int,
                 price: int, size: int, decrease: bool, now: int) -> int:
    """The amend's intent, `pending`: its id."""
    cursor = run(conn, """INSERT INTO order_amends (order_id, mode, venue, old_price, old_size, price, size, decrease,
                              created_at)
                          VALUES (:order_id, :mode, :venue, :old_price, :old_size, :price, :size, :decrease, :now)""",
                 {"order_id": order_id, "mode": mode, "venue": venue, "old_price": old_price, "old_size": old_size,
                  "price": price, "size": size, "decrease": int(decrease), "now": now})
    return int(cursor.lastrowid)  # type: ignore[arg-type]  # set after an INSERT


def end_amend(conn: Connection, amend_id: int, status: str, now: int, error: str | None = None) -> bool:
    """Move a pending amend to `status` (one of ENDS); False when it had already ended."""
    if status not in ENDS:
        raise ValueError(f"an amend ends {', '.join(ENDS)}, not {status!r}")
    return bool(run(conn, """UPDATE order_amends SET status = :status, error = :error, answered_at = :now
                             WHERE id = :id AND status = 'pending'""",
                    {"status": status, "error": error, "now": now, "id": amend_id}).rowcount)


def set_terms(conn: Connection, order_id: int, price: int, size: int, now: int) -> None:
    """An open order's price and total size, as the venue now rests it (an amend it took)."""
    run(conn, "UPDATE orders SET price = :price, size = :size, updated_at = :now WHERE id = :id AND status_rank < 100",
        {"price": price, "size": size, "now": now, "id": order_id})


def pending(conn: Connection, mode: str, venue: str) -> list[sqlite3.Row]:
    """The ledger's amends still awaiting the venue's word, oldest first."""
    return list(run(conn, """SELECT id, order_id, old_price, old_size, price, size, decrease, created_at
                             FROM order_amends WHERE mode = :mode AND venue = :venue AND status = 'pending'
                             ORDER BY id""", {"mode": mode, "venue": venue}).fetchall())


def refused_orders(conn: Connection, mode: str, venue: str) -> set[int]:
    """Open orders of the ledger an amend of which the venue refused (they are replaced, not amended)."""
    return {int(r[0]) for r in run(conn, """SELECT DISTINCT a.order_id FROM order_amends a
                                             JOIN orders o ON o.id = a.order_id
                                             WHERE a.mode = :mode AND a.venue = :venue AND a.status = 'refused'
                                               AND o.status_rank < 100""", {"mode": mode, "venue": venue})}


def count_by_status(conn: Connection, mode: str, venue: str) -> dict[str, int]:
    """How many amends of the ledger ended each way (and are pending): `engine status`, tests."""
    return {str(status): int(n) for status, n in run(
        conn, "SELECT status, COUNT(*) FROM order_amends WHERE mode = :mode AND venue = :venue GROUP BY status",
        {"mode": mode, "venue": venue}).fetchall()}
