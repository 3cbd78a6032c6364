"""What the venue owes the desk, in SQL: claims, settlement transactions and the merges'
position conversions (engine/execution/claims.py says what they mean).

Only the engine's executor writes them, each on the connection of a transaction it opened,
so a credit's booking and the claims it pays stay one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from contracts.venues import desk_venue, venue_of
from storage.sqlite.sql import run, scalar

REFUND = "refund:"  # how a voided market's refund claim's ref begins (the round trips read it)

OPEN_TX_STATES = ("sending", "pending")  # a settlement transaction not yet confirmed nor failed


@dataclass(frozen=True, slots=True)
class ClaimRow:
    id: int
    kind: str
    condition_id: str
    strategy: str
    token_id: str | None
    amount: int
    status: str
    tx_id: int | None
    created_at: int


@dataclass(frozen=True, slots=True)
class TxRow:
    id: int
    kind: str
    condition_id: str | None
    amount: int
    ref: str | None
    state: str
    created_at: int


# -- claims ----------------------------------------------------------------------------------------


def add_claim(conn: Connection, *, mode: str, kind: str, condition_id: str, strategy: str, token_id: str | None,
              amount: int, ref: str, now: int, tx_id: int | None = None) -> bool:
    """One claim per (mode, ref): a resolution settled twice owes once."""
    return bool(run(conn, """INSERT INTO claims (mode, venue, kind, condition_id, strategy, token_id, amount, ref,
                                 tx_id, created_at)
                             VALUES (:mode, :venue, :kind, :cid, :strategy, :token, :amount, :ref, :tx, :now)
                             ON CONFLICT (mode, ref) DO NOTHING""",
                    {"mode": mode, "venue": venue_of(condition_id), "kind": kind, "cid": condition_id,
                     "strategy": strategy, "token": token_id,
                     "amount": amount, "ref": ref, "tx": tx_id, "now": now}).rowcount)


def open_claims(conn: Connection, mode: str, condition_id: str | None = None,
                venue: str | None = None) -> list[ClaimRow]:
    """The open claims of one venue's ledger (by default the market's venue, or the desk's)."""
    venue = venue or (venue_of(condition_id) if condition_id else desk_venue())
    rows = run(conn, """SELECT id, kind, condition_id, strategy, token_id, amount, status, tx_id, created_at
                        FROM claims WHERE mode = :mode AND venue = :venue AND status = 'open'
                        AND (:cid IS NULL OR condition_id = :cid) ORDER BY id""",
               {"mode": mode, "venue": venue, "cid": condition_id})
    return [ClaimRow(*r) for r in rows]


def redeemable(conn: Connection, mode: str, venue: str) -> int:
    """What the venue owes, not yet paid: the redeemable part of equity."""
    return int(scalar(conn, """SELECT COALESCE(SUM(amount), 0) FROM claims WHERE mode = :mode AND venue = :venue
                               AND status = 'open'""", {"mode": mode, "venue": venue}))


def settle_claims(conn: Connection, claims: Iterable[ClaimRow], status: str, paid_by: str | None, now: int) -> None:
    """Close open claims as `status` ('paid'), by the venue transaction `paid_by`."""
    for claim in claims:
        run(conn, "UPDATE claims SET status = :s, paid_by = :by, settled_at = :now WHERE id = :id AND status = 'open'",
            {"s": status, "by": paid_by, "now": now, "id": claim.id})


# -- settlement transactions -----------------------------------------------------------------------


def new_tx(conn: Connection, *, mode: str, kind: str, condition_id: str | None, amount: int, actor: str,
           now: int) -> int:
    """Recorded before it is sent (intent before network)."""
    cursor = run(conn, """INSERT INTO settlement_txs (mode, venue, kind, condition_id, amount, state, actor,
                              created_at, updated_at)
                          VALUES (:mode, :venue, :kind, :cid, :amount, 'sending', :actor, :now, :now)""",
                 {"mode": mode, "venue": venue_of(condition_id) if condition_id else desk_venue(), "kind": kind,
                  "cid": condition_id, "amount": amount, "actor": actor, "now": now})
    return int(cursor.lastrowid)  # type: ignore[arg-type]  # set after an INSERT


def tx_moved(conn: Connection, tx_id: int, *, ref: str | None, tx_hash: str | None, via: str | None, state: str,
             error: str | None, now: int) -> None:
    """What the venue said of a sent transaction (a None keeps what was known)."""
    run(conn, """UPDATE settlement_txs SET ref = COALESCE(:ref, ref), tx_hash = COALESCE(:hash, tx_hash),
                     via = COALESCE(:via, via), state = :state, error = :error, updated_at = :now WHERE id = :id""",
        {"ref": ref, "hash": tx_hash, "via": via, "state": state, "error": error, "now": now, "id": tx_id})


def tx_failed(conn: Connection, tx_id: int, error: str, now: int) -> None:
    """A transaction that will not pay: a merge's sets go back into the positions, its claim fails."""
    run(conn, "UPDATE settlement_txs SET state = 'failed', error = :e, updated_at = :now WHERE id = :id",
        {"e": error[:500], "now": now, "id": tx_id})
    run(conn, "UPDATE position_conversions SET status = 'failed' WHERE tx_id = :id AND status = 'pending'",
        {"id": tx_id})
    run(conn, "UPDATE claims SET status = 'failed', settled_at = :now WHERE tx_id = :id AND status = 'open'",
        {"now": now, "id": tx_id})


def still_owed_by(conn: Connection, mode: str, tx: TxRow) -> int:
    """How many claims a sent transaction was meant to pay are still open: a merge's own claims,
    or a redemption's market's redeem claims."""
    if tx.kind == "merge":
        sql, params = "SELECT COUNT(*) FROM claims WHERE tx_id = :id AND status = 'open'", dict[str, Any](id=tx.id)
    else:
        sql = """SELECT COUNT(*) FROM claims WHERE mode = :mode AND kind = 'redeem' AND condition_id = :cid
                 AND status = 'open'"""
        params = {"mode": mode, "cid": tx.condition_id}
    return int(scalar(conn, sql, params))


def open_txs(conn: Connection, mode: str, venue: str) -> list[TxRow]:
    rows = run(conn, """SELECT id, kind, condition_id, amount, ref, state, created_at FROM settlement_txs
                        WHERE mode = :mode AND venue = :venue AND state IN ('sending', 'pending') ORDER BY id""",
               {"mode": mode, "venue": venue})
    return [TxRow(*r) for r in rows]


def last_attempt(conn: Connection, mode: str, kind: str, condition_id: str) -> TxRow | None:
    row = run(conn, """SELECT id, kind, condition_id, amount, ref, state, created_at FROM settlement_txs
                       WHERE mode = :mode AND kind = :kind AND condition_id = :cid ORDER BY id DESC LIMIT 1""",
              {"mode": mode, "kind": kind, "cid": condition_id}).fetchone()
    return None if row is None else TxRow(*row)


def tx_recorded(conn: Connection, mode: str, tx_hash: str) -> bool:
    """Whether `mode`'s ledger holds a settlement transaction mined (or paid) as `tx_hash`."""
    return run(conn, "SELECT 1 FROM settlement_txs WHERE mode = :m AND tx_hash = :h LIMIT 1",
               {"m": mode, "h": tx_hash}).fetchone() is not None


def tx_ids_by_hash(conn: Connection, tx_hash: str) -> set[int]:
    """The settlement transactions the venue mined as `tx_hash`."""
    return {int(r[0]) for r in run(conn, "SELECT id FROM settlement_txs WHERE tx_hash = :h", {"h": tx_hash})}


def merges_paid(conn: Connection, tx_ids: Iterable[int], now: int) -> None:
    """The merges of these transactions are paid: their conversions done, the transactions
    confirmed (one that failed stays failed)."""
    ids = json.dumps(sorted(tx_ids))
    run(conn, "UPDATE position_conversions SET status = 'done' WHERE status = 'pending' "
              "AND tx_id IN (SELECT value FROM json_each(:tx))", {"tx": ids})
    run(conn, "UPDATE settlement_txs SET state = 'confirmed', updated_at = :now WHERE state != 'failed' "
              "AND id IN (SELECT value FROM json_each(:tx))", {"now": now, "tx": ids})


# -- merges ----------------------------------------------------------------------------------------


def add_conversion(conn: Connection, *, mode: str, strategy: str, condition_id: str, token_id: str, outcome: str,
                   shares: int, price: int, tx_id: int, now: int) -> None:
    """Shares a merge takes out of a position (pending until the venue pays or the merge fails)."""
    run(conn, """INSERT INTO position_conversions (mode, venue, strategy, condition_id, token_id, outcome, shares,
                     price, at, tx_id, status) VALUES (:mode, :venue, :strategy, :cid, :token, :outcome, :shares,
                     :price, :now, :tx, 'pending')""",
        {"mode": mode, "venue": venue_of(condition_id), "strategy": strategy, "cid": condition_id, "token": token_id,
         "outcome": outcome, "shares": shares, "price": price, "now": now, "tx": tx_id})
