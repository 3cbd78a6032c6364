from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase


def up(db: UtilsDatabase) -> None:
    """What an alert is about (e.g. one strategy's exit of one token), beside its message: the
    notifier de-duplicates repeats by it, since a message that carries a price differs each time."""
    db.execute("ALTER TABLE alerts ADD COLUMN subject TEXT")
