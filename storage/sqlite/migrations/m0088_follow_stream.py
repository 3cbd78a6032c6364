from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Copy trading at the speed of the trade (engine/follow/): each followed trade says which source
    kept it first (`source`: stream, the venue's real-time trade stream; data_api, the reconciling
    poll) and, from the stream, when the venue reported it (`reported_at`, ms; seen_at - reported_at
    is how late it reached the desk). `follow_cursors`: per followed wallet, when the desk began
    following it (`since_ms`: trades before are history) and the newest trade time the Data API has
    listed (`reconciled_s`), so a restart reads on from there and loses nothing."""
    ddl(
        db,
        """
        ALTER TABLE followed_trades ADD COLUMN reported_at INTEGER;
        ALTER TABLE followed_trades ADD COLUMN source TEXT NOT NULL DEFAULT 'data_api'
            CHECK (source IN ('stream', 'data_api'));
        CREATE TABLE follow_cursors (
            wallet TEXT PRIMARY KEY,
            since_ms INTEGER NOT NULL,
            reconciled_s INTEGER,
            updated_at INTEGER NOT NULL
        );
        """,
    )
