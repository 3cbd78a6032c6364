from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Every order's trail for the Audit page (storage/dashboard_queries/order_trail_queries.py), read
    from the ledger's own rows rather than copied beside them: a placement is its order's row (its
    intent's reason, and now `gate`: what the risk gate did with that intent, 'approved' or the trims
    and holds it made; NULL for an order that did not come through it: the operator's, an exit's, an
    import); a cancel the desk sent is its cause (`end_reason`) and now `ending_at`, set by the same
    write; an end the venue decided is the order's status and words, `ending_at` its time (an order
    that filled has its fills instead); a fill is its fill. Each step is therefore written in the
    ledger's own transaction by construction, and a decision pays no extra row for it: a row per step
    in a table of its own, even written by triggers, cost a replacing decision 4-11 % more CPU
    (bench/decision_cost.py, alternating, on a busy host). A partial index on `ending_at` lets the page
    read the newest ends first. Orders ended before this migration are dated by their close."""
    ddl(
        db,
        """
        ALTER TABLE orders ADD COLUMN gate TEXT;
        ALTER TABLE orders ADD COLUMN ending_at INTEGER;
        UPDATE orders SET ending_at = COALESCE(closed_at, updated_at)
            WHERE end_reason IS NOT NULL OR status IN ('REJECTED', 'CANCELED', 'LOST');
        CREATE INDEX ix_orders_ending ON orders (ending_at) WHERE ending_at IS NOT NULL
        """,
    )
