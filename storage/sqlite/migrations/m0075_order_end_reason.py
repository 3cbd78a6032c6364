from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Why the desk ended an order (contracts/order_end.py): written with the cancel the executor
    sends (a replace, a pause, a kill, an exit, a protection...); NULL while it works and for an
    end the venue decides (read from the status and `error`)."""
    ddl(db, "ALTER TABLE orders ADD COLUMN end_reason TEXT;")
