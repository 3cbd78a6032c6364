from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """What the desk last read of each paired Kalshi market (engine/feeds/kalshi_reference.py, `pairs
    add`): its price grid (`price_ranges`, a JSON list of [start, end, step] in micro-dollars), its
    series' fee type and multiplier (millionths), its lifecycle status and when it was read. NULL until
    read: the desk then prices on whole cents (valid on every grid) and charges the dearest known fees."""
    ddl(db, "\n".join(f"ALTER TABLE venue_pairs ADD COLUMN {column};" for column in (
        "kalshi_price_grid TEXT", "kalshi_fee_type TEXT", "kalshi_fee_multiplier_ppm INTEGER", "kalshi_status TEXT",
        "kalshi_read_at INTEGER")))
