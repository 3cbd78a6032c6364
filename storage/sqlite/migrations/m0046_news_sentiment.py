from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Each headline's sentiment in thousandths (-1000..1000: -1..1, engine/news/sentiment.py) as the
    poller scored it; NULL for entries seen before it was scored."""
    ddl(db, "ALTER TABLE news_seen ADD COLUMN sentiment INTEGER CHECK (sentiment BETWEEN -1000 AND 1000);")
