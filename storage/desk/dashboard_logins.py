"""Who a dashboard login is, now: the rule every write of a logged-in session is held to.

The logins: `admin`, the desk's own password (`DASHBOARD_PASSWORD_HASH` in `.env`), an administrator;
`viewer`, the legacy read-only password (`DASHBOARD_VIEWER_PASSWORD_HASH`); every user of
`dashboard_users`. A login's session tokens are signed with its `signing` secret
(storage/desk/dashboard_sessions.py): for the `.env` logins their hash; for a user, the administrator's
`.env` hash with the user's name and hash, so reading the database file forges no session, and a new
password (the user's, or the administrator's) ends that user's sessions.

A session writes through a handle `acting_as` its login's Access, whose `credential` is a fingerprint of
that secret. Every write through such a handle finds the login again, inside the write's own transaction
(`Database.write`: BEGIN IMMEDIATE, so no change of the users lands between the check and the write), and
before it (`Database.require`, so a refusal comes before any work), and is refused in words when the
login is gone (removed), has another password (a new password ends its sessions), or has another role or
venue than its page was drawn for: a write is made by a login that exists at that moment, with the role
it has then, whatever page, fragment or dialog drew the button (an auto-refreshing fragment included,
which never runs the page's login check). The page reloads to the login, or to the new role's controls,
at its next refresh (pages/widgets/common.py, `live_fragment`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection

from contracts.roles import ROLE_WORDS, Access, Role
from contracts.settings import Settings, SettingsError, load_settings
from contracts.venues import LABELS
from storage.desk import dashboard_users
from storage.desk.dashboard_users import ADMIN_NAME, VIEWER_NAME

ADMIN_ACTOR, VIEWER_ACTOR = "dashboard", "dashboard-viewer"  # the audit's actors of the `.env` logins


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
        return Access(self.name, self.role, actor, self.venue, credential=self.fingerprint)

    @property
    def fingerprint(self) -> str:
        """Kept in the session and in its Access: a login whose secret changed since (a new password)
        is logged out, and its writes refused."""
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


def user_login(admin_hash: str, user: dashboard_users.User) -> Login:
    return Login(user.name, user.role, user.venue, user.password_hash,
                 f"{admin_hash}\x00{user.name}\x00{user.password_hash}")


def login_in(conn: Connection, name: str, settings: Settings) -> Login | None:
    """The login called `name` as `conn` sees the users now (None: no such login, or none before the
    first password)."""
    found = env_logins(settings)
    if not found:
        return None
    if name in (ADMIN_NAME, VIEWER_NAME):
        return next((login for login in found if login.name == name), None)
    user = dashboard_users.user_in(conn, name)
    return None if user is None else user_login(found[0].password_hash, user)


def _as(role: Role, venue: str | None) -> str:
    only = f", {LABELS.get(venue, venue)} only" if venue else ""
    article = "an" if role in (Role.ADMIN, Role.OPERATOR) else "a"
    return f"{article} {ROLE_WORDS[role]}{only}"


def why_not_now(conn: Connection, access: Access) -> str | None:
    """Why a write through a handle acting as `access` may not be made now (a phrase, as contracts/roles.py's
    `why_not`), or None: a login with no credential (the machine's user, a Telegram chat) is not one of the
    dashboard's, and is held only to its role."""
    if access.credential is None:
        return None
    try:
        settings = load_settings()
    except SettingsError:
        return "the desk's settings (.env) cannot be read now, so no login can be checked"
    login = login_in(conn, access.user, settings)
    if login is None:
        return f"{access.user} is no longer a user of this desk (an administrator removed them)"
    if login.fingerprint != access.credential:
        return (f"the password of {access.user} was changed since this page logged in, which ends its sessions "
                "(log in again)")
    if (login.role, login.venue) != (access.role, access.venue):
        return (f"{access.user} is {_as(login.role, login.venue)} now, no longer {_as(access.role, access.venue)} "
                "as when this page was drawn (it reloads with what the new role may do)")
    return None
