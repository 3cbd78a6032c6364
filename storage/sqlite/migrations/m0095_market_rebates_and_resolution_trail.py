from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Two facts of a market the venue lists (Gamma) that the desk used to assume or miss: the share of
    its taker fees rebated to makers (`feeSchedule.rebateRate`, parts per million; NULL: the listing
    names none), and UMA's trail of its resolution (`umaResolutionStatuses`: the statuses before the
    current one, JSON list; a dispute stays in it after a later proposal)."""
    ddl(
        db,
        """
        ALTER TABLE markets ADD COLUMN rebate_ppm INTEGER;
        ALTER TABLE markets ADD COLUMN resolution_history TEXT NOT NULL DEFAULT '[]';
        """,
    )
