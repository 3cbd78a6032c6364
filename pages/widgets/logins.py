"""Who may log in to the dashboard, and as whom: the logins of `.env` and the users of the database.

- `admin`: the desk's own password (`DASHBOARD_PASSWORD_HASH` in `.env`: the first run's, or
  `python -m engine set-password`), an administrator. Before roles it was the desk's one password, so
  it still logs in with the name left empty: a desk that upgrades keeps working as it did.
- `viewer`: the legacy read-only password (`DASHBOARD_VIEWER_PASSWORD_HASH`), also with an empty name.
- every user an administrator added on the Settings page (storage/desk/dashboard_users.py).

What a login is, what its sessions are signed with and how its writes are held to it at the moment
they are made: storage/desk/dashboard_logins.py. Here: finding the login a name and password open.
"""

from __future__ import annotations

from contracts.passwords import verify_password
from contracts.settings import Settings
from storage.desk import dashboard_users
from storage.desk.dashboard_logins import Login, env_logins, login_in, user_login
from storage.sqlite.db import Database

# Checked against when a name is unknown, so a wrong name costs the same time as a wrong password.
_NOBODY = "scrypt$32768$8$1$bm9ib2R5bm9ib2R5bm9ib2R5$bm9ib2R5bm9ib2R5bm9ib2R5bm9ib2R5bm9ib2R5bm8="


def every_login(settings: Settings, db: Database | None) -> list[Login]:
    """Every login there is (the `.env` ones, then the database's users, once it exists)."""
    found = env_logins(settings)
    if not found or db is None:
        return found
    return found + [user_login(found[0].password_hash, user) for user in dashboard_users.users(db)]


def login_named(name: str, settings: Settings, db: Database | None) -> Login | None:
    """The login called `name` now (None: no such login, or none before the first password)."""
    if db is None:
        return next((login for login in env_logins(settings) if login.name == name), None)
    with db.read() as conn:
        return login_in(conn, name, settings)


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
