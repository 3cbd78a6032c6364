from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase


def up(db: UtilsDatabase) -> None:
    """How many markets each strategy's market list or filter selects now, written by the
    engine when it changes: a strategy that selects nothing says so."""
    db.execute("""CREATE TABLE strategy_selection (
        name TEXT PRIMARY KEY,
        selected INTEGER NOT NULL,
        note TEXT,
        updated_at INTEGER NOT NULL
    )""")
