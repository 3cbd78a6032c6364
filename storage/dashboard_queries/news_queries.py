"""Reads for the Signals view (Markets page): every fair-value signal with its expiry, each news
feed's polling status, and the latest headlines the poller acted on."""

from __future__ import annotations

import pandas as pd

from storage.sqlite.db import Database
from storage.sqlite.frames import frame as _frame
from storage.sqlite.frames import to_human, to_utc

SIGNAL_ROWS = 500


def signals(db: Database, now: int) -> pd.DataFrame:
    """Every signal, the ones in force first (newest first), then the expired ones: market,
    source, fair value (probability), what raised it, when it expires and whether it is in force."""
    data = _frame(
        db,
        """SELECT s.condition_id, m.question, s.source, s.fair_value, s.confidence, s.via, s.detail, s.updated_at,
                  s.updated_by, s.expires_at, COALESCE(v.state, 'feeding') AS source_state,
                  (s.expires_at IS NULL OR s.expires_at > :now) AND COALESCE(v.state, '') != 'benched' AS in_force
           FROM signals s LEFT JOIN markets m ON m.condition_id = s.condition_id
                LEFT JOIN signal_sources v ON v.source = s.source
           ORDER BY in_force DESC, s.updated_at DESC LIMIT :limit""",
        {"now": now, "limit": SIGNAL_ROWS},
    )
    data["in_force"] = data["in_force"].astype(bool)
    data["question"] = data["question"].fillna(data["condition_id"])
    return to_utc(to_human(data, "fair_value", "confidence"), "updated_at", "expires_at")


def news_feeds(db: Database) -> pd.DataFrame:
    """Each configured feed's last poll: when, whether it answered, entries read, signals written."""
    data = _frame(db, """SELECT name, url, polled_at, ok_at, error, entries, matched FROM news_feeds
                         ORDER BY name""")
    return to_utc(data, "polled_at", "ok_at")


def headlines(db: Database, limit: int = 50) -> pd.DataFrame:
    """The newest entries the poller read, with their sentiment (-1..1; None before it was scored)
    and how many signals each raised."""
    data = _frame(db, """SELECT seen_at, feed, title, sentiment / 1000.0 AS sentiment, signals, link, published_at
                         FROM news_seen ORDER BY seen_at DESC, signals DESC LIMIT :limit""", {"limit": limit})
    return to_utc(data, "seen_at", "published_at")


def venue_pairs(db: Database) -> pd.DataFrame:
    """The markets linked by hand across venues (engine/cli/pairs.py): the Polymarket market, the Kalshi
    market, which Kalshi side is its YES, the warnings shown when they were linked, who linked them."""
    import json

    data = _frame(db, """SELECT p.id, p.condition_id, COALESCE(m.question, p.polymarket_question) AS question,
                                p.kalshi_ticker, p.kalshi_title, p.inverted, p.warnings, p.created_at, p.created_by
                         FROM venue_pairs p LEFT JOIN markets m ON m.condition_id = p.condition_id ORDER BY p.id""")
    data["kalshi_side"] = ["NO" if inverted else "YES" for inverted in data["inverted"]]
    data["warnings"] = ["; ".join(json.loads(w)) for w in data["warnings"]]
    return to_utc(data, "created_at")
