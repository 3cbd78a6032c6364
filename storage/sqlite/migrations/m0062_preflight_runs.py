from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Each preflight run (`engine preflight`, `engine kalshi-preflight`, or the Settings page running
    one): for which venue, host and account (the wallet's addresses, or the Kalshi key's fingerprint),
    whether it passed, and its checks (JSON list of {check, ok, detail, fix}). Arming a venue live
    needs a passing run of the last hour for the account the engine holds (storage/desk/arming.py)."""
    ddl(
        db,
        """
        CREATE TABLE preflight_runs (
            id INTEGER PRIMARY KEY,
            venue TEXT NOT NULL,
            host TEXT NOT NULL,
            account TEXT,
            ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
            checks TEXT NOT NULL DEFAULT '[]',
            at INTEGER NOT NULL,
            actor TEXT NOT NULL
        );
        CREATE INDEX preflight_runs_by_venue ON preflight_runs (venue, at)
        """,
    )
