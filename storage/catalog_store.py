"""The `markets` table as the engine keeps it: Gamma's markets upserted a page at a time, the
CLOB's fee parameters (and current tick, min size, neg-risk) set on the markets being traded,
and every row read back for the market catalogue (engine/feeds/catalog.py).

Rows are dicts of named parameters (engine/feeds/discovery.py: market_row builds them from a
parsed Gamma market); each call is one short write transaction. A market the venue lists is
the venue's (`origin = 'venue'`), even if an imported session file brought it first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text

from storage.db import Database

_UPSERT = text("""
INSERT INTO markets (condition_id, gamma_id, question, slug, yes_token, no_token, outcomes, tick, min_size,
    neg_risk, neg_risk_market_id, end_at, active, closed, accepting_orders, volume, volume_24h, liquidity,
    tags, gamma_version, tradable, untradable_reason, first_seen_at, updated_at)
VALUES (:condition_id, :gamma_id, :question, :slug, :yes_token, :no_token, :outcomes, :tick, :min_size,
    :neg_risk, :neg_risk_market_id, :end_at, :active, :closed, :accepting_orders, :volume, :volume_24h,
    :liquidity, :tags, :gamma_version, :tradable, :untradable_reason, :now, :now)
ON CONFLICT (condition_id) DO UPDATE SET
    gamma_id = excluded.gamma_id, question = excluded.question, slug = excluded.slug,
    yes_token = excluded.yes_token, no_token = excluded.no_token, outcomes = excluded.outcomes,
    tick = excluded.tick, min_size = excluded.min_size, neg_risk = excluded.neg_risk,
    neg_risk_market_id = excluded.neg_risk_market_id, end_at = excluded.end_at, active = excluded.active,
    closed = excluded.closed, accepting_orders = excluded.accepting_orders, volume = excluded.volume,
    volume_24h = excluded.volume_24h, liquidity = excluded.liquidity, tags = excluded.tags,
    gamma_version = excluded.gamma_version, tradable = excluded.tradable,
    untradable_reason = excluded.untradable_reason, updated_at = excluded.updated_at,
    origin = 'venue'
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


def all_markets(db: Database) -> list[dict[str, Any]]:
    """Every stored market, as a dict of its columns."""
    with db.read() as conn:
        return [dict(row) for row in conn.execute(text("SELECT * FROM markets")).mappings().all()]
