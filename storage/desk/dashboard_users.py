"""The dashboard's users beside its administrator: the one writer of `dashboard_users`, and its reads.

The administrator's password hash stays in `.env` (`DASHBOARD_PASSWORD_HASH`, the desk's one password
before roles, set by `python -m engine set-password` or the first run), and so does the legacy viewer's:
they are the logins `admin` and `viewer`, names no user of this table may take. Each user here is a name,
the scrypt hash of its password (contracts/passwords.py; the password itself is never stored), a role
and, for an operator, the one venue it may trade. Only an administrator adds, changes or removes one
(`Database.require`); each change is versioned (a change made elsewhere meanwhile is refused) and
audited with its before and after, never a hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, text

from contracts.passwords import PasswordError, hash_password
from contracts.roles import Role, Scope
from contracts.venues import LABELS, VENUES
from storage.desk.audit import write_audit
from storage.desk.config import ConfigError, StaleVersion
from storage.sqlite.db import Database, now_ms

ADMIN_NAME, VIEWER_NAME = "admin", "viewer"  # the logins of `.env`
RESERVED = frozenset({ADMIN_NAME, VIEWER_NAME, "dashboard", "telegram", "machine"})
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
MANAGING = "managing the dashboard's users"


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    role: Role
    venue: str | None
    version: int
    updated_at: int
    updated_by: str


def _user(row: Row[Any]) -> User:
    return User(str(row.name), str(row.password_hash), Role(row.role), row.venue, int(row.version),
                int(row.updated_at), str(row.updated_by))


_COLUMNS = "name, password_hash, role, venue, version, updated_at, updated_by"


def users(db: Database) -> list[User]:
    with db.read() as conn:
        return [_user(r) for r in conn.execute(text(f"SELECT {_COLUMNS} FROM dashboard_users ORDER BY name"))]


def user(db: Database, name: str) -> User | None:
    with db.read() as conn:
        return user_in(conn, name)


def user_in(conn: Connection, name: str) -> User | None:
    """The user called `name` as `conn` sees it (inside a write: as the write will find it)."""
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM dashboard_users WHERE name = :n"),
                       {"n": name.strip().lower()}).first()
    return None if row is None else _user(row)


def checked_name(name: str) -> str:
    """The name as stored (lower case), or ConfigError saying what a name may be."""
    cleaned = name.strip().lower()
    if not NAME.match(cleaned):
        raise ConfigError("a user's name is 1 to 32 letters, digits, dots, dashes or underscores, starting with a "
                          "letter or digit", {"name": "letters, digits, . _ - (at most 32)"})
    if cleaned in RESERVED:
        raise ConfigError(f"{cleaned!r} is reserved (admin is the desk's own password in .env, viewer its legacy "
                          "read-only login): choose another name", {"name": "reserved"})
    return cleaned


def _checked_role(role: str, venue: str | None) -> tuple[Role, str | None]:
    try:
        checked = Role(role)
    except ValueError:
        raise ConfigError(f"unknown role {role!r}: admin, operator or viewer", {"role": "unknown"}) from None
    if venue is not None and venue not in VENUES:
        raise ConfigError(f"unknown venue {venue!r}: one of {', '.join(VENUES)}", {"venue": "unknown"})
    if venue is not None and checked is not Role.OPERATOR:
        raise ConfigError("only an operator is limited to one venue (an administrator and a viewer reach every "
                          "venue)", {"venue": "operators only"})
    return checked, venue


def _hashed(password: str) -> str:
    try:
        return hash_password(password)
    except PasswordError as exc:
        raise ConfigError(f"nothing saved: {exc}", {"password": str(exc)}) from None


def _shown(role: Role, venue: str | None) -> dict[str, str | None]:
    return {"role": role.value, "venue": venue}


def add_user(db: Database, *, name: str, password: str, role: str, venue: str | None, actor: str) -> User:
    """A new user (audited `user.add`); refused if the name is taken."""
    db.require(MANAGING, Scope.ADMIN)
    cleaned, (checked, venue) = checked_name(name), _checked_role(role, venue)
    hashed, now = _hashed(password), now_ms()
    with db.write() as conn:
        inserted = conn.execute(text("""INSERT INTO dashboard_users (name, password_hash, role, venue, version,
                                            created_at, updated_at, updated_by)
                                        VALUES (:n, :h, :r, :v, 1, :now, :now, :by) ON CONFLICT (name) DO NOTHING"""),
                                {"n": cleaned, "h": hashed, "r": checked.value, "v": venue, "now": now,
                                 "by": actor}).rowcount
        if not inserted:
            raise ConfigError(f"a user named {cleaned!r} already exists", {"name": "taken"})
        write_audit(conn, actor=actor, action="user.add", entity=f"dashboard_user:{cleaned}", before=None,
                    after={**_shown(checked, venue), "password": "set"})
    return User(cleaned, hashed, checked, venue, 1, now, actor)


def change_user(db: Database, *, name: str, version: int, role: str, venue: str | None, password: str | None,
                actor: str) -> int:
    """A user's role, venue and (when given) new password, if it is still at `version` (audited
    `user.change`; a new password ends the user's sessions, and a new role holds from their next write on:
    storage/desk/dashboard_logins.py). The new version."""
    db.require(MANAGING, Scope.ADMIN)
    checked, venue = _checked_role(role, venue)
    hashed = None if password is None else _hashed(password)
    found = user(db, name)
    if found is None:
        raise ConfigError(f"no user named {name!r} (removed meanwhile?): reload")
    with db.write() as conn:
        changed = conn.execute(text("""UPDATE dashboard_users SET role = :r, venue = :v,
                                           password_hash = COALESCE(:h, password_hash), version = version + 1,
                                           updated_at = :now, updated_by = :by
                                       WHERE name = :n AND version = :version"""),
                               {"r": checked.value, "v": venue, "h": hashed, "now": now_ms(), "by": actor,
                                "n": found.name, "version": version}).rowcount
        if not changed:
            raise StaleVersion(f"user {found.name!r}")
        write_audit(conn, actor=actor, action="user.change", entity=f"dashboard_user:{found.name}",
                    before=_shown(found.role, found.venue),
                    after={**_shown(checked, venue), **({"password": "changed"} if hashed else {})})
    return version + 1


def remove_user(db: Database, *, name: str, version: int, actor: str) -> None:
    """Remove a user (audited `user.remove`): its sessions end (its open pages go back to the login at
    their next refresh, and no write of theirs is made from then on: storage/desk/dashboard_logins.py)."""
    db.require(MANAGING, Scope.ADMIN)
    found = user(db, name)
    if found is None:
        raise ConfigError(f"no user named {name!r} (removed meanwhile?): reload")
    with db.write() as conn:
        if not conn.execute(text("DELETE FROM dashboard_users WHERE name = :n AND version = :v"),
                            {"n": found.name, "v": version}).rowcount:
            raise StaleVersion(f"user {found.name!r}")
        write_audit(conn, actor=actor, action="user.remove", entity=f"dashboard_user:{found.name}",
                    before=_shown(found.role, found.venue), after=None)


def role_words(role: Role, venue: str | None) -> str:
    """"operator (Kalshi only)", as the Users table and the sidebar say it."""
    return f"{role.value}" + (f" ({LABELS.get(venue, venue)} only)" if venue else "")
