from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase


def up(db: UtilsDatabase) -> None:
    """When a paper GTD order expires (epoch ms; NULL for every other order): the paper venue
    takes it off the book as the real one does."""
    db.execute("ALTER TABLE paper_orders ADD COLUMN expires_at INTEGER")
