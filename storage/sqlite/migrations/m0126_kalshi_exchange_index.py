from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The exchange shard a paired Kalshi market lives on (`exchange_index`, as the desk last read it;
    NULL: not read yet): its orders are routed there and its collateral checked there
    (engine/venues/kalshi/shards.py), and its fills and positions are that shard's."""
    ddl(db, "ALTER TABLE venue_pairs ADD COLUMN kalshi_exchange_index INTEGER;")
