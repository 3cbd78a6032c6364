from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Gamma's events, as the desk judges a neg-risk set by them (engine/feeds/discovery.py): each
    event's whole outcome set (its markets, each named, a placeholder or the "Other" market) and
    whether it is augmented; and each market's event. A neg-risk set is traded only when it is an
    event's whole set and the event is not augmented (engine/feeds/catalog.py)."""
    ddl(
        db,
        """
        ALTER TABLE markets ADD COLUMN event_id TEXT;
        CREATE TABLE market_events (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            neg_risk_market_id TEXT,
            augmented INTEGER NOT NULL CHECK (augmented IN (0, 1)),
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE event_members (
            event_id TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('named', 'placeholder', 'other')),
            question TEXT NOT NULL,
            PRIMARY KEY (event_id, condition_id)
        );
        """,
    )
