"""Who may log in to the dashboard, and as whom: the logins of `.env` and the users of the database.

- `admin`: the desk's own password (`DASHBOARD_PASSWORD_HASH` in `.env`: the first run's, or
  `python -m engine set-password`), an administrator. Before roles it was the desk's one password, so
  it still logs in with the name left empty: a desk that upgrades keeps working as it did.
- `viewer`: the legacy read-only password (`DASHBOARD_VIEWER_PASSWORD_HASH`), also with an empty name.
- every user an administrator added on the Settings page (storage/desk/dashboard_users.py).

A login's session tokens are signed with its `signing` secret (storage/desk/dashboard_sessions.py): for
the `.env` logins their hash, as before roles (their sessions survived the upgrade); for a user of the
database, the administrator's `.env` hash with the user's name and hash, so whoever reads the database
file, which holds the users' hashes, still cannot forge a session, and a new password (the user's or the
administrator's) ends that user's sessions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from contracts.passwords import verify_password
from contracts.roles import Access, Role
from contracts.settings import Settings
from storage.desk import dashboard_users
from storage.desk.dashboard_users import ADMIN_NAME, VIEWER_NAME
from storage.sqlite.db import Database

ADMIN_ACTOR, VIEWER_ACTOR = "dashboard", "dashboard-viewer"  # the audit's actors of the `.env` logins
# Checked against when a name is unknown, so a wrong name costs the same time as a wrong password.
_NOBODY = "scrypt$32768$8$1$bm9ib2R5bm9ib2R5bm9ib2R5$bm9ib2R5bm9ib2R5bm9ib2R5bm9ib2R5bm9ib2R5bm8="


@dataclass(frozen=True)
class Login:
    name: str
    role: Role
    venue: str | None
    password_hash: str
    signing: str  # what its session tokens are signed with

    @property
    def access(self) -> Access:
        actor = {ADMIN_NAME: ADMIN_ACTOR, VIEWER_NAME: VIEWER_ACTOR}.get(self.name, f"dashboard:{self.name}")
        return Access(self.name, self.role, actor, self.venue)

    @property
    def fingerprint(self) -> str:
        """Kept in the session: a login whose secret changed since (a new password) is logged out."""
        return hashlib.sha256(self.signing.encode()).hexdigest()[:16]

    @property
    def from_env(self) -> bool:
        return self.name in (ADMIN_NAME, VIEWER_NAME)


def env_logins(settings: Settings) -> list[Login]:
    """The administrator's login, then the legacy viewer's; none before the first password is set."""
    if settings.dashboard_password_hash is None:
        return []
    admin = settings.dashboard_password_hash.reveal()
    found = [Login(ADMIN_NAME, Role.ADMIN, None, admin, admin)]
    if settings.dashboard_viewer_password_hash is not None:
        viewer = settings.dashboard_viewer_password_hash.reveal()
        found.append(Login(VIEWER_NAME, Role.VIEWER, None, viewer, viewer))
    return found


def _of_user(admin_hash: str, user: dashboard_users.User) -> Login:
    return Login(user.name, user.role, user.venue, user.password_hash,
                 f"{admin_hash}\x00{user.name}\x00{user.password_hash}")


def every_login(settings: Settings, db: Database | None) -> list[Login]:
    """Every login there is (the `.env` ones, then the database's users, once it exists)."""
    found = env_logins(settings)
    if not found or db is None:
        return found
    return found + [_of_user(found[0].password_hash, user) for user in dashboard_users.users(db)]


def login_named(name: str, settings: Settings, db: Database | None) -> Login | None:
    """The login called `name` now (None: no such login, or none before the first password)."""
    found = env_logins(settings)
    if not found:
        return None
    if name in (ADMIN_NAME, VIEWER_NAME):
        return next((login for login in found if login.name == name), None)
    user = dashboard_users.user(db, name) if db is not None else None
    return None if user is None else _of_user(found[0].password_hash, user)


def matching(name: str, password: str, settings: Settings, db: Database | None) -> Login | None:
    """The login a typed name and password open. An empty name tries the `.env` logins (the desk's
    password before roles, then the legacy viewer's), as the one password field did."""
    typed = name.strip().lower()
    if not typed:
        candidates = env_logins(settings)
    else:
        found = login_named(typed, settings, db)
        candidates = [found] if found is not None else []
    for login in candidates:
        if password and verify_password(password, login.password_hash):
            return login
    if not candidates:
        verify_password(password, _NOBODY)  # as long as a wrong password takes
    return None
