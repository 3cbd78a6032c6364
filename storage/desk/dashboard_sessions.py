"""Dashboard logins that survive a page reload, and the audited writes of logging in and out.

The token is `<session id>.<expiry ms>.<signature>`: an HMAC-SHA256 over the id and expiry, keyed by
a key derived from the login's signing secret: the password hash itself for the logins of `.env` (the
administrator's, the legacy viewer's), and for a user of the `dashboard_users` table the administrator's
`.env` hash with the user's name and hash (pages/widgets/logins.py), so the database alone, which holds
the users' hashes, forges no session. The token holds neither the password nor the hash. Changing a
password therefore ends that login's sessions (the administrator's: every session); logging out ends
one (its id is kept as revoked until the token would have expired anyway).

The dashboard writes here, and only here, for its logins: a login and a logout (audited, the session by
a short digest), a burst of failed logins (an alert, audited) and the first-run password (audited).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import text

from storage.desk.audit import raise_alert, write_audit
from storage.sqlite.db import Database, now_ms

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}\.[0-9]{1,16}\.[0-9a-f]{64}$")


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"polymarket-desk dashboard session\x00" + secret.encode()).digest()


def _signature(secret: str, session_id: str, expires_at: int) -> str:
    return hmac.new(_key(secret), f"{session_id}.{expires_at}".encode(), hashlib.sha256).hexdigest()


def issue(secret: str, hours: int, *, now: int | None = None) -> str:
    """A new session token valid for `hours`, signed with a login's signing secret."""
    expires_at = (now_ms() if now is None else now) + hours * 3_600_000
    session_id = secrets.token_urlsafe(24)
    return f"{session_id}.{expires_at}.{_signature(secret, session_id, expires_at)}"


def session_of(db: Database, token: str, secret: str, *, max_hours: int, now: int | None = None) -> str | None:
    """The session id of a token that is well formed, signed with this login's key, not
    expired, not logged out, and issued for no longer than `max_hours` (DASHBOARD_SESSION_HOURS
    now: lowering it ends the longer sessions issued before); None otherwise (never an exception:
    it comes from the URL)."""
    if not isinstance(token, str) or not TOKEN_SHAPE.match(token):
        return None
    session_id, expiry, signature = token.split(".")
    expires_at = int(expiry)
    if not hmac.compare_digest(signature, _signature(secret, session_id, expires_at)):
        return None
    now = now_ms() if now is None else now
    if expires_at <= now or expires_at - now > max_hours * 3_600_000:
        return None
    with db.read() as conn:
        revoked = conn.execute(text("SELECT 1 FROM dashboard_sessions_revoked WHERE session_id = :id"),
                               {"id": session_id}).first()
    return None if revoked else session_id


def session_label(token: str | None) -> str | None:
    """What the audit log names a session by: a short digest of its id, so the log ties a login
    to its logout without holding anything that could be replayed (not the token, not its id)."""
    if not token or not TOKEN_SHAPE.match(token):
        return None
    return hashlib.sha256(token.split(".")[0].encode()).hexdigest()[:12]


def audit_login(db: Database, token: str | None, *, actor: str) -> None:
    """A successful dashboard login, audited (the session's label, never the password or token)."""
    with db.write() as conn:
        write_audit(conn, actor=actor, action="dashboard.login", entity="dashboard", before=None,
                    after={"session": session_label(token)})


def revoke(db: Database, token: str | None, *, actor: str) -> None:
    """Log a session out (audited): its token is refused from now on, whatever its expiry. A
    session without a token (DASHBOARD_SESSION_HOURS=0) is audited all the same."""
    now = now_ms()
    with db.write() as conn:
        if token and TOKEN_SHAPE.match(token):
            session_id, expiry, _ = token.split(".")
            conn.execute(text("DELETE FROM dashboard_sessions_revoked WHERE expires_at <= :now"), {"now": now})
            conn.execute(text("""INSERT INTO dashboard_sessions_revoked (session_id, expires_at, revoked_at)
                                 VALUES (:id, :exp, :now) ON CONFLICT (session_id) DO NOTHING"""),
                         {"id": session_id, "exp": int(expiry), "now": now})
        write_audit(conn, actor=actor, action="dashboard.logout", entity="dashboard",
                    before={"session": session_label(token)}, after=None)


def record_login_failures(db: Database, failures: int, *, window_s: float) -> None:
    """A burst of failed or refused logins: one warning alert (notified if the trader chose warnings)
    and its audit row, in one transaction."""
    message = (f"{failures} failed dashboard logins in the last {window_s / 60:.0f} minutes: someone may be "
               "guessing a password. Logins are slowed for every session; change the password if this was "
               "not you (python -m engine set-password, or Settings, Users, for a user of the desk).")
    with db.write() as conn:
        raise_alert(conn, level="warning", source="dashboard", code="LOGIN_FAILURES", message=message)
        write_audit(conn, actor="dashboard", action="login.failures", entity="dashboard",
                    before=None, after={"failures": failures, "window_s": window_s})


def record_password_set(db: Database, *, where: str) -> None:
    """The first run's password (the administrator's) was written to `where` (`.env`): audited, without
    the hash."""
    with db.write() as conn:
        write_audit(conn, actor="dashboard", action="dashboard.password_set", entity="dashboard",
                    before=None, after={"where": where})
