"""Dashboard logins that survive a page reload: a signed, expiring session token.

The token is `<session id>.<expiry ms>.<signature>`: an HMAC-SHA256 over the id and expiry,
keyed by a key derived from the dashboard's password hash. It holds neither the password nor
the hash, and it cannot be forged without the hash, which lives only in `.env`. Changing the
password therefore ends every session; logging out ends one (its id is kept as revoked until
the token would have expired anyway).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import text

from storage.desk.audit import write_audit
from storage.sqlite.db import Database, now_ms

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}\.[0-9]{1,16}\.[0-9a-f]{64}$")


def _key(password_hash: str) -> bytes:
    return hashlib.sha256(b"polymarket-desk dashboard session\x00" + password_hash.encode()).digest()


def _signature(password_hash: str, session_id: str, expires_at: int) -> str:
    return hmac.new(_key(password_hash), f"{session_id}.{expires_at}".encode(), hashlib.sha256).hexdigest()


def issue(password_hash: str, hours: int, *, now: int | None = None) -> str:
    """A new session token valid for `hours`."""
    expires_at = (now_ms() if now is None else now) + hours * 3_600_000
    session_id = secrets.token_urlsafe(24)
    return f"{session_id}.{expires_at}.{_signature(password_hash, session_id, expires_at)}"


def session_of(db: Database, token: str, password_hash: str, *, max_hours: int, now: int | None = None) -> str | None:
    """The session id of a token that is well formed, signed with this password's key, not
    expired, not logged out, and issued for no longer than `max_hours` (DASHBOARD_SESSION_HOURS
    now: lowering it ends the longer sessions issued before); None otherwise (never an exception:
    it comes from the URL)."""
    if not isinstance(token, str) or not TOKEN_SHAPE.match(token):
        return None
    session_id, expiry, signature = token.split(".")
    expires_at = int(expiry)
    if not hmac.compare_digest(signature, _signature(password_hash, session_id, expires_at)):
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
