from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Dashboard logins that ended before their token expired (Log out): a signed session token
    in a revoked row is refused even though its signature and expiry still hold. Rows are
    dropped once the token would have expired anyway."""
    ddl(
        db,
        """
        CREATE TABLE dashboard_sessions_revoked (
            session_id TEXT PRIMARY KEY,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER NOT NULL
        )
        """,
    )
