from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl, now_ms

# Kalshi's arming as migrations 0054 and 0061 kept it on the engine_state row (column: venue_modes').
_KALSHI_ARMING_COLUMNS = {"kalshi_mode": "mode", "kalshi_key": "account", "kalshi_host": "host"}


def up(db: UtilsDatabase) -> None:
    """A venue's arming is a row, not columns of the engine row: `venue_modes`, one row per venue armed
    apart from the desk's (the desk's own venue is armed by engine_state.mode), holding its mode ('paper'
    until the operator arms it live: `set_venue_mode`) and the account and host the running engine read
    for it at its start (what arming checks a preflight against). A venue without a row is on paper.
    Kalshi's, kept on the engine_state row since 0054 and 0061, moves to its row as it stands (an armed
    Kalshi is still armed after the upgrade); then those columns go (no index, view, trigger or CHECK
    names them)."""
    ddl(
        db,
        """
        CREATE TABLE venue_modes (
            venue TEXT PRIMARY KEY,
            mode TEXT NOT NULL DEFAULT 'paper' CHECK (mode IN ('paper', 'live')),
            account TEXT,
            host TEXT,
            updated_at INTEGER NOT NULL
        )
        """,
    )
    old = ", ".join(_KALSHI_ARMING_COLUMNS)
    db.execute(f"""INSERT INTO venue_modes (venue, {", ".join(_KALSHI_ARMING_COLUMNS.values())}, updated_at)
                   SELECT 'kalshi', {old}, ? FROM engine_state WHERE id = 1""", [now_ms()])
    for column in _KALSHI_ARMING_COLUMNS:
        db.execute(f"ALTER TABLE engine_state DROP COLUMN {column}")
