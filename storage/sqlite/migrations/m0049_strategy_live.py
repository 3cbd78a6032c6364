from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Whether a strategy may trade live (1) or only paper (0): a new strategy starts in paper
    whatever the desk's mode, and promoting it is its own confirmed, audited act. Strategies that
    existed before keep trading as they did (1)."""
    ddl(db, "ALTER TABLE strategies ADD COLUMN live INTEGER NOT NULL DEFAULT 1 CHECK (live IN (0, 1));")
