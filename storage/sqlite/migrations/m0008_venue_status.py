from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Whether the venue takes orders now (ok, maintenance, post_only, rate_limited), for the
    dashboard's banner: the weekly matching-engine restart is a condition, not an error. And
    when a market's fee schedule was last read from the CLOB (NULL: never, so unknown, which
    is not the same as no fee)."""
    ddl(
        db,
        """
        ALTER TABLE engine_state ADD COLUMN venue_status TEXT NOT NULL DEFAULT 'ok'
            CHECK (venue_status IN ('ok', 'maintenance', 'post_only', 'rate_limited'));
        ALTER TABLE engine_state ADD COLUMN venue_status_at INTEGER;
        ALTER TABLE engine_state ADD COLUMN venue_status_detail TEXT;
        ALTER TABLE markets ADD COLUMN fees_at INTEGER
        """,
    )
