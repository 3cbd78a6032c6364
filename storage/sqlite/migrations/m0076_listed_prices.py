from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """What the venue's market listing (Gamma) says a market's YES trades at: best bid, best ask
    and last trade (micro probability, NULL when it lists none) and when the desk read them, so a
    market the desk does not follow still shows a price, with its age."""
    ddl(db, """ALTER TABLE markets ADD COLUMN listed_bid INTEGER;
        ALTER TABLE markets ADD COLUMN listed_ask INTEGER;
        ALTER TABLE markets ADD COLUMN listed_last INTEGER;
        ALTER TABLE markets ADD COLUMN listed_at INTEGER;""")
