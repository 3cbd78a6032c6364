from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """What the running engine read at its start (engine/process/control.py, `boot`): the venue hosts it
    talks to, so every surface says "real money" only against a real venue, and which wallet and which
    Kalshi key it holds (the wallet's addresses; the Kalshi key's fingerprint, never the key), so arming
    can require a preflight of the key the engine really read (a `.env` edited since is not read until
    the engine restarts). NULL: not read (an engine of an older release, or nothing configured)."""
    ddl(
        db,
        """
        ALTER TABLE engine_state ADD COLUMN venue_host TEXT;
        ALTER TABLE engine_state ADD COLUMN venue_wallet TEXT;
        ALTER TABLE engine_state ADD COLUMN kalshi_host TEXT;
        ALTER TABLE engine_state ADD COLUMN kalshi_key TEXT;
        ALTER TABLE engine_state ADD COLUMN reads_at INTEGER;
        """,
    )
