from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The dashboard's users beside its administrator (whose password hash stays in `.env`, the desk's
    password before roles): each a name, a scrypt hash of its password (contracts/passwords.py; never
    the password), a role (contracts/roles.py) and, for an operator, the one venue it may trade (NULL:
    every venue). Written only by storage/desk/dashboard_users.py, audited."""
    ddl(
        db,
        """
        CREATE TABLE dashboard_users (
            name TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
            venue TEXT CHECK (venue IS NULL OR role = 'operator'),
            version INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL
        )
        """,
    )
