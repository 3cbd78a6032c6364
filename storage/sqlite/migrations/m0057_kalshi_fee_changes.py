from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The changes of a paired Kalshi market's fee settings that Kalshi lists for its series (`GET
    /series/fee_changes`, past and scheduled) and when the fees were read: a JSON object {"read_at":
    epoch ms, "changes": [[from epoch ms, fee type, multiplier ppm], ...]} (contracts/kalshi_fees.py
    FeeSchedule); NULL until read, and no change for a market whose event overrides its series' fees."""
    ddl(db, "ALTER TABLE venue_pairs ADD COLUMN kalshi_fee_changes TEXT;")
