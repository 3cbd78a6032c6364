from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """A resolution is a payout per outcome (micro-pUSD a share), not only a winner: a canceled
    game pays 0.5/0.5 (contracts/payouts.py). `resolved_outcome` keeps the winner of a
    1/0 resolution and stays empty for a split; existing resolutions are 1/0."""
    ddl(
        db,
        """
        ALTER TABLE markets ADD COLUMN payout_yes INTEGER;
        ALTER TABLE markets ADD COLUMN payout_no INTEGER;
        UPDATE markets SET payout_yes = CASE resolved_outcome WHEN 'YES' THEN 1000000 ELSE 0 END,
                           payout_no = CASE resolved_outcome WHEN 'NO' THEN 1000000 ELSE 0 END
         WHERE resolved_outcome IS NOT NULL;
        """,
    )
