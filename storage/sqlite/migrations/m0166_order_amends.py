from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Amends of resting orders (engine/execution/amends.py), where the venue changes an order in place
    (Kalshi's Amend and Decrease Order (V2)): each written `pending`, with the order's terms before and
    after, before it is sent (intent before network), and moved once: `applied` (the order row then carries
    the new terms), `refused` (the venue said no: the order rests as it was), `lost` (its answer never came
    and the venue shows the old terms: never sent again) or `ended` (the order ended before the venue's
    word was read). Start-up reads the pending ones and settles each from the venue, never resending."""
    ddl(
        db,
        """
        CREATE TABLE order_amends (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders (id),
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            venue TEXT NOT NULL,
            old_price INTEGER NOT NULL,
            old_size INTEGER NOT NULL,
            price INTEGER NOT NULL,
            size INTEGER NOT NULL,
            decrease INTEGER NOT NULL CHECK (decrease IN (0, 1)),
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'applied', 'refused', 'lost', 'ended')),
            error TEXT,
            created_at INTEGER NOT NULL,
            answered_at INTEGER
        );
        CREATE INDEX ix_order_amends_order ON order_amends (order_id);
        CREATE INDEX ix_order_amends_pending ON order_amends (mode, venue) WHERE status = 'pending';
        """,
    )
