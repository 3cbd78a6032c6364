"""What the venue owes the desk, and the cash it pays: claims, settlement transactions, credits.

A position ends in cash only when the venue pays. A resolved winning position becomes a
*redeem claim* (1 pUSD a share; the position itself is closed and its PnL realized), a merge
sent turns complete YES+NO sets into a *merge claim* (1 pUSD a set; `position_conversions`
take the shares out of the positions). Claims are *redeemable*: part of equity, never cash.
Cash arrives only as a venue credit (engine/venues/settlement.py): a redemption or merge
pays the open claims of its market, a maker rebate is income; each is booked once, by the
venue's transaction hash, for exactly the amount the venue reports. SQL here; the executor's
transaction wraps every write (single writer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection

from engine.domain import ONE, Outcome, fmt
from engine.execution import store
from engine.venues.settlement import SettlementTx, VenueCredit
from storage.sql import run, scalar

INCOME = ("rebate", "reward")  # paid to the wallet, owed by no claim: booked as cash, once by hash
CASH_KIND = {"redeem": "redemption", "merge": "merge", "rebate": "rebate", "reward": "reward"}
OPEN_TX_STATES = ("sending", "pending")


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


@dataclass(frozen=True, slots=True)
class Booking:
    """What booking one credit did: `booked` False when it was booked before."""

    booked: bool
    amount: int = 0
    claimed: int = 0  # the open claims it paid, micro-pUSD
    claims: int = 0  # how many


# -- claims ----------------------------------------------------------------------------------------


def add_claim(conn: Connection, *, mode: str, kind: str, condition_id: str, strategy: str, token_id: str | None,
              amount: int, ref: str, now: int, tx_id: int | None = None) -> bool:
    """One claim per (mode, ref): a resolution settled twice owes once."""
    return bool(run(conn, """INSERT INTO claims (mode, kind, condition_id, strategy, token_id, amount, ref, tx_id,
                                 created_at) VALUES (:mode, :kind, :cid, :strategy, :token, :amount, :ref, :tx, :now)
                             ON CONFLICT (mode, ref) DO NOTHING""",
                    {"mode": mode, "kind": kind, "cid": condition_id, "strategy": strategy, "token": token_id,
                     "amount": amount, "ref": ref, "tx": tx_id, "now": now}).rowcount)


def open_claims(conn: Connection, mode: str, condition_id: str | None = None) -> list[ClaimRow]:
    rows = run(conn, """SELECT id, kind, condition_id, strategy, token_id, amount, status, tx_id, created_at
                        FROM claims WHERE mode = :mode AND status = 'open'
                        AND (:cid IS NULL OR condition_id = :cid) ORDER BY id""", {"mode": mode, "cid": condition_id})
    return [ClaimRow(*r) for r in rows]


def redeemable(conn: Connection, mode: str) -> int:
    """What the venue owes, not yet paid: the redeemable part of equity."""
    return int(scalar(conn, "SELECT COALESCE(SUM(amount), 0) FROM claims WHERE mode = :mode AND status = 'open'",
                      {"mode": mode}))


def _settle_claims(conn: Connection, claims: list[ClaimRow], status: str, paid_by: str | None, now: int) -> None:
    for claim in claims:
        run(conn, "UPDATE claims SET status = :s, paid_by = :by, settled_at = :now WHERE id = :id AND status = 'open'",
            {"s": status, "by": paid_by, "now": now, "id": claim.id})


# -- settlement transactions -----------------------------------------------------------------------


def new_tx(conn: Connection, *, mode: str, kind: str, condition_id: str | None, amount: int, actor: str,
           now: int) -> int:
    """Recorded before it is sent (intent before network)."""
    cursor = run(conn, """INSERT INTO settlement_txs (mode, kind, condition_id, amount, state, actor, created_at,
                              updated_at) VALUES (:mode, :kind, :cid, :amount, 'sending', :actor, :now, :now)""",
                 {"mode": mode, "kind": kind, "cid": condition_id, "amount": amount, "actor": actor, "now": now})
    return int(cursor.lastrowid)  # type: ignore[arg-type]


def tx_moved(conn: Connection, tx_id: int, sent: SettlementTx, now: int) -> None:
    run(conn, """UPDATE settlement_txs SET ref = COALESCE(:ref, ref), tx_hash = COALESCE(:hash, tx_hash),
                     via = COALESCE(:via, via), state = :state, error = :error, updated_at = :now WHERE id = :id""",
        {"ref": sent.ref or None, "hash": sent.tx_hash, "via": sent.via or None, "state": sent.state,
         "error": sent.error, "now": now, "id": tx_id})


def tx_failed(conn: Connection, tx_id: int, error: str, now: int) -> None:
    """A transaction that will not pay: a merge's sets go back into the positions, its claim fails."""
    run(conn, "UPDATE settlement_txs SET state = 'failed', error = :e, updated_at = :now WHERE id = :id",
        {"e": error[:500], "now": now, "id": tx_id})
    run(conn, "UPDATE position_conversions SET status = 'failed' WHERE tx_id = :id AND status = 'pending'",
        {"id": tx_id})
    run(conn, "UPDATE claims SET status = 'failed', settled_at = :now WHERE tx_id = :id AND status = 'open'",
        {"now": now, "id": tx_id})


def open_txs(conn: Connection, mode: str) -> list[TxRow]:
    rows = run(conn, """SELECT id, kind, condition_id, amount, ref, state, created_at FROM settlement_txs
                        WHERE mode = :mode AND state IN ('sending', 'pending') ORDER BY id""", {"mode": mode})
    return [TxRow(*r) for r in rows]


def last_attempt(conn: Connection, mode: str, kind: str, condition_id: str) -> TxRow | None:
    row = run(conn, """SELECT id, kind, condition_id, amount, ref, state, created_at FROM settlement_txs
                       WHERE mode = :mode AND kind = :kind AND condition_id = :cid ORDER BY id DESC LIMIT 1""",
              {"mode": mode, "kind": kind, "cid": condition_id}).fetchone()
    return None if row is None else TxRow(*row)


# -- merges ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MergeLeg:
    strategy: str
    sets: int  # micro-shares of YES and of NO taken out
    yes_price: int  # the YES leg's price; the NO leg's is ONE - this (a set is worth exactly 1)


def record_merge(conn: Connection, *, mode: str, tx_id: int, condition_id: str, yes_token: str, no_token: str,
                 legs: list[MergeLeg], now: int) -> None:
    """The sets leave the positions now (pending until the venue pays or the merge fails) and
    each strategy is owed 1 pUSD a set."""
    for leg in legs:
        for token, outcome, price in ((yes_token, Outcome.YES, leg.yes_price), (no_token, Outcome.NO, ONE - leg.yes_price)):
            run(conn, """INSERT INTO position_conversions (mode, strategy, condition_id, token_id, outcome, shares,
                             price, at, tx_id, status) VALUES (:mode, :strategy, :cid, :token, :outcome, :shares,
                             :price, :now, :tx, 'pending')""",
                {"mode": mode, "strategy": leg.strategy, "cid": condition_id, "token": token,
                 "outcome": outcome.value, "shares": leg.sets, "price": price, "now": now, "tx": tx_id})
        add_claim(conn, mode=mode, kind="merge", condition_id=condition_id, strategy=leg.strategy, token_id=None,
                  amount=leg.sets, ref=f"merge:{tx_id}:{leg.strategy}", now=now, tx_id=tx_id)


# -- credits ---------------------------------------------------------------------------------------


def book_credit(conn: Connection, mode: str, credit: VenueCredit, now: int) -> Booking:
    """Book what the venue paid, once; a redemption or a merge pays its market's open claims
    (a merge first those of the transaction that paid)."""
    cash_kind = CASH_KIND[credit.kind]
    ref = credit.tx_hash if credit.kind in INCOME else f"{credit.tx_hash}:{credit.condition_id}"
    note = _note(credit)
    if not store.add_cash_entry(conn, mode=mode, kind=cash_kind, amount=credit.amount, ref=ref, note=note, now=now):
        return Booking(False)
    if credit.kind in INCOME or credit.condition_id is None:
        return Booking(True, credit.amount)
    claims = [c for c in open_claims(conn, mode, credit.condition_id) if c.kind == credit.kind]
    if credit.kind == "merge":
        claims = _merge_claims_paid(conn, claims, credit)
        tx_ids = json.dumps(sorted({c.tx_id for c in claims if c.tx_id is not None}))
        run(conn, "UPDATE position_conversions SET status = 'done' WHERE status = 'pending' "
                  "AND tx_id IN (SELECT value FROM json_each(:tx))", {"tx": tx_ids})
        run(conn, "UPDATE settlement_txs SET state = 'confirmed', updated_at = :now WHERE state != 'failed' "
                  "AND id IN (SELECT value FROM json_each(:tx))", {"now": now, "tx": tx_ids})
    _settle_claims(conn, claims, "paid", credit.tx_hash, now)
    return Booking(True, credit.amount, sum(c.amount for c in claims), len(claims))


def _merge_claims_paid(conn: Connection, claims: list[ClaimRow], credit: VenueCredit) -> list[ClaimRow]:
    """The merge claims this credit pays: those of the transaction with its hash, else the
    oldest open ones up to its amount."""
    tx_ids = {int(r[0]) for r in run(conn, "SELECT id FROM settlement_txs WHERE tx_hash = :h", {"h": credit.tx_hash})}
    mine = [c for c in claims if c.tx_id in tx_ids]
    if mine:
        return mine
    paid, left = [], credit.amount
    for claim in claims:
        if claim.amount <= left:
            paid.append(claim)
            left -= claim.amount
    return paid


def _note(credit: VenueCredit) -> str:
    what = {"redeem": "redemption paid", "merge": "complete sets merged", "rebate": "maker rebate paid",
            "reward": "liquidity rewards paid"}[credit.kind]
    where = f" in {credit.condition_id[:14]}…" if credit.condition_id else ""
    return f"{what}{where}: {fmt(credit.amount)} pUSD (venue tx {credit.tx_hash[:14]}…)"
