from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """A paper redemption of a Protocol V2 market redeems one outcome, as its Router does
    (engine/venues/paper_settlement.py): `position` is that outcome's token (NULL: a CTF redemption,
    both outcomes burned)."""
    ddl(db, "ALTER TABLE paper_settlements ADD COLUMN position TEXT;")
