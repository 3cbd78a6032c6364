"""The paper venue's redemptions and merges in SQL (`paper_settlements`): every request, pending
until due, then confirmed (what it paid and burned) or failed (why).

Only the paper settlement (engine/venues/paper_settlement.py) calls these, each on the
connection of a transaction it opened, so carrying out the due requests stays one transaction.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import Connection

from contracts.venues import venue_of
from storage.sqlite.sql import run, scalar


def insert_request(conn: Connection, *, ref: str, kind: str, condition_id: str, yes_token: str, no_token: str,
                   requested: int, tx_hash: str, due_at: int, now: int, position: str | None = None) -> None:
    """A new pending redemption or merge, carried out at `due_at` (`position`: the one outcome a
    Protocol V2 redemption redeems)."""
    run(conn, """INSERT INTO paper_settlements (ref, kind, condition_id, yes_token, no_token, requested,
                     state, tx_hash, due_at, created_at, venue, position)
                 VALUES (:ref, :kind, :cid, :yes, :no, :amount, 'pending', :hash, :due, :now, :venue, :position)""",
        {"ref": ref, "kind": kind, "cid": condition_id, "yes": yes_token, "no": no_token, "amount": requested,
         "hash": tx_hash, "due": due_at, "now": now, "venue": venue_of(condition_id), "position": position})


def request_state(conn: Connection, ref: str) -> sqlite3.Row | None:
    """(state, error, tx_hash) of one request; None if there is no such request."""
    row: sqlite3.Row | None = run(conn, "SELECT state, error, tx_hash FROM paper_settlements WHERE ref = :r",
                                  {"r": ref}).fetchone()
    return row


def due_requests(conn: Connection, now: int) -> list[sqlite3.Row]:
    """(ref, kind, condition_id, requested, position) of the pending requests due by `now`, in the order
    they fell due."""
    return run(conn, """SELECT ref, kind, condition_id, requested, position FROM paper_settlements
                        WHERE state = 'pending' AND due_at <= :now ORDER BY due_at, ref""",
               {"now": now}).fetchall()


def finish(conn: Connection, ref: str, now: int, *, state: str, error: str | None, paid: int, yes_burned: int,
           no_burned: int) -> None:
    """Close a request as confirmed or failed, with what it paid and burned."""
    run(conn, """UPDATE paper_settlements SET state = :state, error = :error, paid = :paid, yes_burned = :yes,
                     no_burned = :no, settled_at = :now WHERE ref = :ref""",
        {"state": state, "error": error, "paid": paid, "yes": yes_burned, "no": no_burned, "now": now,
         "ref": ref})


def confirmed_since(conn: Connection, since_ms: int) -> list[sqlite3.Row]:
    """(kind, condition_id, paid, burned, tx_hash, settled_at, position) of the confirmed requests settled
    at or after `since_ms`, oldest first."""
    return run(conn, """SELECT kind, condition_id, paid, yes_burned + no_burned AS burned, tx_hash, settled_at,
                               position
                        FROM paper_settlements WHERE state = 'confirmed' AND settled_at >= :since
                        ORDER BY settled_at""", {"since": since_ms}).fetchall()


def burned(conn: Connection, token_id: str) -> int:
    """Shares of a token the confirmed redemptions and merges burned."""
    return int(scalar(conn, """SELECT COALESCE(SUM(CASE WHEN yes_token = :t THEN yes_burned
                                   ELSE no_burned END), 0)
                               FROM paper_settlements WHERE state = 'confirmed'
                                   AND :t IN (yes_token, no_token)""",
                      {"t": token_id}))


def total_paid(conn: Connection, venue: str) -> int:
    """Everything the confirmed redemptions and merges paid in."""
    return int(scalar(conn, "SELECT COALESCE(SUM(paid), 0) FROM paper_settlements WHERE state = 'confirmed' "
                            "AND venue = :venue", {"venue": venue}))
