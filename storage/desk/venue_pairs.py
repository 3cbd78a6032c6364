"""Markets linked by hand across venues (`venue_pairs`): written by the operator's command, each
change audited in the same transaction; read by the engine (cross-venue prices) and the CLI. A link
touches both its venues: an operator limited to one may not make or remove it (contracts/roles.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, text

from contracts.order_status import TERMINAL_RANK
from contracts.roles import Scope
from contracts.venues import KALSHI, POLYMARKET
from contracts.venues.kalshi import ids as kalshi_ids
from storage.desk.audit import write_audit
from storage.sqlite.db import Database, now_ms


class PairRefused(ValueError):
    """A link the desk will not store (the message says why)."""


@dataclass(frozen=True)
class Pair:
    id: int
    condition_id: str
    kalshi_ticker: str
    inverted: bool
    polymarket_question: str
    kalshi_title: str
    warnings: tuple[str, ...]
    created_at: int
    created_by: str


def add_pair(db: Database, *, condition_id: str, kalshi_ticker: str, inverted: bool, polymarket_question: str,
             kalshi_title: str, warnings: list[str], actor: str) -> Pair:
    db.require("linking a pair of markets", Scope.VENUE, {POLYMARKET, KALSHI})
    with db.write() as conn:
        taken = conn.execute(text("""SELECT condition_id, kalshi_ticker FROM venue_pairs
                                     WHERE condition_id = :c OR kalshi_ticker = :k"""),
                             {"c": condition_id, "k": kalshi_ticker}).first()
        if taken is not None:
            raise PairRefused(f"already linked: {taken[0]} with {taken[1]} (remove that pair first)")
        at = now_ms()
        row = {"c": condition_id, "k": kalshi_ticker, "i": int(inverted), "pq": polymarket_question,
               "kt": kalshi_title, "w": json.dumps(warnings), "at": at, "by": actor}
        pair_id = conn.execute(text("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted,
                                       polymarket_question, kalshi_title, warnings, created_at, created_by)
                                       VALUES (:c, :k, :i, :pq, :kt, :w, :at, :by) RETURNING id"""), row).scalar_one()
        write_audit(conn, actor=actor, action="pair.add", entity=f"venue_pairs:{pair_id}", before=None,
                    after={"condition_id": condition_id, "kalshi_ticker": kalshi_ticker, "inverted": inverted,
                           "warnings": warnings})
    return Pair(pair_id, condition_id, kalshi_ticker, inverted, polymarket_question, kalshi_title, tuple(warnings),
                at, actor)


def remove_pair(db: Database, pair_id: int, *, actor: str) -> Pair:
    """Unlink a pair, refused while any ledger holds or works its Kalshi market: the desk follows a
    Kalshi market (its book, its settlement) only while it is paired, so a position left there would
    never be marked, sold or settled."""
    db.require("unlinking a pair of markets", Scope.VENUE, {POLYMARKET, KALSHI})
    with db.write() as conn:
        found = _read(conn, "WHERE id = :id", {"id": pair_id})
        if not found:
            raise PairRefused(f"no pair {pair_id} (python -m engine pairs list shows them)")
        if held := _still_held(conn, kalshi_ids.market_id(found[0].kalshi_ticker)):
            raise PairRefused(f"pair {pair_id}'s Kalshi market {found[0].kalshi_ticker} is still held ({held}): "
                              "unpaired, it would no longer be priced, sold or settled. Exit those positions and "
                              "cancel those orders first (Orders & trades), or wait for the market to settle")
        conn.execute(text("DELETE FROM venue_pairs WHERE id = :id"), {"id": pair_id})
        write_audit(conn, actor=actor, action="pair.remove", entity=f"venue_pairs:{pair_id}",
                    before={"condition_id": found[0].condition_id, "kalshi_ticker": found[0].kalshi_ticker,
                            "inverted": found[0].inverted}, after=None)
    return found[0]


def _still_held(conn: Connection, market: str) -> str:
    """What the ledgers hold or work in `market`, as said to the operator ("" for nothing)."""
    positions, orders = conn.execute(text(
        """SELECT (SELECT COUNT(*) FROM positions WHERE condition_id = :m AND settled + pending != 0),
                  (SELECT COUNT(*) FROM orders WHERE condition_id = :m AND status_rank < :open)"""),
        {"m": market, "open": TERMINAL_RANK}).one()
    said = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in ((positions, "position"), (orders, "working order"))
            if n]
    return ", ".join(said)


def list_pairs(db: Database) -> list[Pair]:
    with db.read() as conn:
        return _read(conn, "", {})


def _read(conn: Connection, where: str, params: dict[str, object]) -> list[Pair]:
    rows = conn.execute(text(f"""SELECT id, condition_id, kalshi_ticker, inverted, polymarket_question, kalshi_title,
                                 warnings, created_at, created_by FROM venue_pairs {where} ORDER BY id"""),
                        params).all()
    return [Pair(r[0], r[1], r[2], bool(r[3]), r[4], r[5], tuple(json.loads(r[6])), r[7], r[8]) for r in rows]


def polymarket_market(db: Database, condition_id: str) -> dict[str, object] | None:
    """What a pair shows of the desk's Polymarket market (None: the desk has not discovered it)."""
    with db.read() as conn:
        row = conn.execute(text("""SELECT condition_id, question, slug, end_at, closed, resolved_outcome FROM markets
                                   WHERE condition_id = :c"""), {"c": condition_id}).first()
    if row is None:
        return None
    return {"condition_id": row[0], "question": row[1], "slug": row[2], "end_at": row[3] or 0,
            "closed": bool(row[4]), "resolved_outcome": row[5]}


def polymarket_search(db: Database, words: list[str], limit: int) -> list[dict[str, object]]:
    """The desk's open Polymarket markets whose question holds every word (case-insensitive), the
    most traded first."""
    clauses = " AND ".join(f"LOWER(question) LIKE :w{i}" for i in range(len(words))) or "1"
    params: dict[str, object] = {f"w{i}": f"%{w.lower()}%" for i, w in enumerate(words)}
    with db.read() as conn:
        rows = conn.execute(text(f"""SELECT condition_id, question FROM markets WHERE closed = 0 AND {clauses}
                                     ORDER BY volume DESC LIMIT :limit"""), {**params, "limit": limit}).all()
    return [{"condition_id": r[0], "question": r[1]} for r in rows]


@dataclass(frozen=True)
class KalshiFacts:
    """What the desk last read of a paired Kalshi market (migration 0055)."""

    price_grid: str  # JSON list of [start, end, step] in micro-dollars (contracts/venues/kalshi/grid.py)
    fee_type: str
    fee_multiplier_ppm: int
    status: str
    fee_changes: str | None = None  # contracts/venues/kalshi/fees.py schedule_json (migration 0057)
    exchange_index: int | None = None  # the exchange shard it lives on (migration 0126)


def set_kalshi_facts(db: Database, ticker: str, facts: KalshiFacts) -> bool:
    """Keep what was read of a paired Kalshi market; False when no pair has that ticker."""
    with db.write() as conn:
        changed = conn.execute(text("""UPDATE venue_pairs SET kalshi_price_grid = :g, kalshi_fee_type = :t,
                                           kalshi_fee_multiplier_ppm = :m, kalshi_status = :s, kalshi_read_at = :at,
                                           kalshi_fee_changes = :c,
                                           kalshi_exchange_index = COALESCE(:x, kalshi_exchange_index)
                                       WHERE kalshi_ticker = :k"""),
                               {"g": facts.price_grid, "t": facts.fee_type, "m": facts.fee_multiplier_ppm,
                                "s": facts.status, "at": now_ms(), "c": facts.fee_changes,
                                "x": facts.exchange_index, "k": ticker}).rowcount
    return bool(changed)
