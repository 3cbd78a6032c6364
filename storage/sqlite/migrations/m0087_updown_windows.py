from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """How each up/down window the desk follows is priced (engine/feeds/spot_reference.py), for the
    Markets page: by which stream (`priced_by`: chainlink, the settlement; okx or binance, the
    fallback; NULL: none), against which price to beat (micro-USD) and where it came from
    (`beat_from`: gamma, or the stream whose price at the start it is). Written when it changes."""
    ddl(
        db,
        """
        CREATE TABLE updown_windows (
            condition_id TEXT PRIMARY KEY,
            priced_by TEXT,
            price_to_beat INTEGER,
            beat_from TEXT,
            updated_at INTEGER NOT NULL
        )
        """,
    )
