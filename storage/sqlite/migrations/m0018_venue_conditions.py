from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase


def up(db: UtilsDatabase) -> None:
    """Every venue condition the engine sees now besides the phase in venue_status (the venue
    unreachable, heartbeats failing, the wallet drifting from the ledger, a rate-limit warning),
    as a JSON list of {code, since, detail}: `engine status` shows them all, never "ok" while
    one is active. Written by the engine; emptied when trading stops."""
    db.execute("ALTER TABLE engine_state ADD COLUMN venue_conditions TEXT NOT NULL DEFAULT '[]'")
