"""The `markets` table as the engine keeps it: Gamma's markets upserted a page at a time, the
CLOB's fee parameters (and current tick, min size, neg-risk) set on the markets being traded,
and every row read back for the market catalogue (engine/feeds/catalog.py).

Rows are dicts of named parameters (engine/venues/polymarket/discovery.py: market_row builds them from a
parsed Gamma market); each call is one short write transaction. A market the venue lists is
the venue's (`origin = 'venue'`), even if an imported session file brought it first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text

from contracts.venues.kalshi.ids import settlement_ref
from storage.sqlite.db import Database

_UPSERT = text("""
INSERT INTO markets (condition_id, gamma_id, question, slug, yes_token, no_token, outcomes, tick, min_size,
    neg_risk, neg_risk_market_id, end_at, active, closed, accepting_orders, volume, volume_24h, liquidity,
    tags, gamma_version, tradable, untradable_reason, event_id, game_start_at, clear_book_on_start, resolution_status,
    resolution_history, rebate_ppm, listed_bid, listed_ask, listed_last, listed_at, first_seen_at, updated_at)
VALUES (:condition_id, :gamma_id, :question, :slug, :yes_token, :no_token, :outcomes, :tick, :min_size,
    :neg_risk, :neg_risk_market_id, :end_at, :active, :closed, :accepting_orders, :volume, :volume_24h,
    :liquidity, :tags, :gamma_version, :tradable, :untradable_reason, :event_id, :game_start_at,
    :clear_book_on_start, :resolution_status, :resolution_history, :rebate_ppm, :listed_bid, :listed_ask,
    :listed_last, :now, :now, :now)
ON CONFLICT (condition_id) DO UPDATE SET
    gamma_id = excluded.gamma_id, question = excluded.question, slug = excluded.slug,
    yes_token = excluded.yes_token, no_token = excluded.no_token, outcomes = excluded.outcomes,
    tick = excluded.tick, min_size = excluded.min_size, neg_risk = excluded.neg_risk,
    neg_risk_market_id = excluded.neg_risk_market_id, end_at = excluded.end_at, active = excluded.active,
    closed = excluded.closed, accepting_orders = excluded.accepting_orders, volume = excluded.volume,
    volume_24h = excluded.volume_24h, liquidity = excluded.liquidity, tags = excluded.tags,
    gamma_version = excluded.gamma_version, tradable = excluded.tradable,
    untradable_reason = excluded.untradable_reason, updated_at = excluded.updated_at,
    event_id = COALESCE(excluded.event_id, markets.event_id), game_start_at = excluded.game_start_at,
    clear_book_on_start = excluded.clear_book_on_start, resolution_status = excluded.resolution_status,
    resolution_history = excluded.resolution_history, rebate_ppm = excluded.rebate_ppm,
    listed_bid = excluded.listed_bid, listed_ask = excluded.listed_ask, listed_last = excluded.listed_last,
    listed_at = excluded.listed_at, origin = 'venue'
""")

_SET_FEES = text("""
UPDATE markets SET fee_rate_ppm = :fee_rate_ppm, fee_exponent = :fee_exponent,
    tick = COALESCE(:tick, tick), min_size = COALESCE(:min_size, min_size), neg_risk = :neg_risk,
    fees_at = :now, updated_at = :now
WHERE condition_id = :condition_id
""")


def upsert_markets(db: Database, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert or update a page of markets (first_seen_at kept) in one transaction."""
    if rows:
        with db.write() as conn:
            conn.execute(_UPSERT, list(rows))


def set_market_fees(db: Database, updates: Sequence[Mapping[str, Any]]) -> None:
    """Set each market's fee rate and exponent, and the CLOB's tick, min size (when given) and
    neg-risk flag, in one transaction."""
    if updates:
        with db.write() as conn:
            conn.execute(_SET_FEES, list(updates))


def paired_kalshi_markets(db: Database) -> list[dict[str, Any]]:
    """Every Kalshi market the operator linked to a Polymarket one (venue_pairs), with what the desk
    last read of it (migration 0055: its price grid, fee settings and status, None until read) and
    `voided`: the ledger booked Kalshi's refund of it (a settlement transaction under the market's
    settlement reference, which only a void records: engine/trading/settlement/void_refunds.py)."""
    with db.read() as conn:
        found = conn.execute(text("""SELECT p.kalshi_ticker AS ticker, p.kalshi_title AS title,
                                            p.kalshi_price_grid AS price_grid, p.kalshi_fee_type AS fee_type,
                                            p.kalshi_fee_multiplier_ppm AS fee_multiplier_ppm,
                                            p.kalshi_status AS status, p.kalshi_fee_changes AS fee_changes,
                                            p.kalshi_exchange_index AS exchange_index,
                                            EXISTS (SELECT 1 FROM settlement_txs t WHERE t.tx_hash = :prefix
                                                    || p.kalshi_ticker) AS voided
                                     FROM venue_pairs p ORDER BY p.id"""), {"prefix": settlement_ref("")}).mappings()
        return [dict(row) for row in found]


def all_markets(db: Database) -> list[dict[str, Any]]:
    """Every stored market, as a dict of its columns."""
    with db.read() as conn:
        return [dict(row) for row in conn.execute(text("SELECT * FROM markets")).mappings().all()]


def close_unlisted(db: Database, listed: set[str], now: int) -> list[str]:
    """After a complete listing of the venue's open markets: each of the venue's markets stored as
    open that the listing no longer has is closed (no longer accepting orders); returns them."""
    with db.write() as conn:
        open_now = conn.execute(
            text("SELECT condition_id FROM markets WHERE origin = 'venue' AND closed = 0")).scalars()
        gone = sorted(set(open_now) - listed)
        if gone:
            conn.execute(text("UPDATE markets SET closed = 1, accepting_orders = 0, updated_at = :now "
                              "WHERE condition_id = :cid"), [{"cid": cid, "now": now} for cid in gone])
    return gone


def store_event(db: Database, event_id: str, title: str, neg_risk_market_id: str | None, augmented: bool,
                members: Sequence[tuple[str, str, str]], now: int) -> None:
    """One Gamma event and its whole outcome set ((condition id, role, question) each), replacing
    what was stored of it, in one transaction."""
    with db.write() as conn:
        conn.execute(text("""INSERT INTO market_events (id, title, neg_risk_market_id, augmented, updated_at)
                             VALUES (:id, :title, :nr, :aug, :now)
                             ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                                 neg_risk_market_id = excluded.neg_risk_market_id, augmented = excluded.augmented,
                                 updated_at = excluded.updated_at"""),
                     {"id": event_id, "title": title, "nr": neg_risk_market_id, "aug": int(augmented), "now": now})
        conn.execute(text("DELETE FROM event_members WHERE event_id = :id"), {"id": event_id})
        conn.execute(text("""INSERT OR REPLACE INTO event_members (event_id, condition_id, role, question)
                             VALUES (:id, :cid, :role, :question)"""),
                     [{"id": event_id, "cid": c, "role": r, "question": q} for c, r, q in members])


def events(db: Database) -> dict[str, dict[str, Any]]:
    """Every stored event by id, with its members ((condition id, role, question), in order)."""
    with db.read() as conn:  # plain SQL: the SQLModel tables cost every engine start ~0.4 s of CPU to import
        found = {row["id"]: {**row, "members": []} for row in conn.execute(text(
            "SELECT id, title, augmented, updated_at, neg_risk_market_id FROM market_events")).mappings()}
        for row in conn.execute(text("SELECT event_id, condition_id, role, question FROM event_members "
                                     "ORDER BY event_id, rowid")).mappings():
            if row["event_id"] in found:
                found[row["event_id"]]["members"].append((row["condition_id"], row["role"], row["question"]))
    return found
