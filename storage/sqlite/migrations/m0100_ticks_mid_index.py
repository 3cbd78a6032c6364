from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The ticks that carry a mid, indexed by token and time: the markout job, a backtest's markouts
    and spread capture ask for the last mid at or before a time (storage/research/markout_queries.py).
    On ix_ticks_token_at that lookup walks back over every row without a mid (a book one side empty,
    an imported archive whose rows give no best prices), each time: one question took tens of ms on a
    week of such rows, and a backtest asks three for each fill. Here it is one seek."""
    ddl(db, "CREATE INDEX ix_ticks_token_mid ON ticks (token_id, at) WHERE mid IS NOT NULL;")
