"""Audit rows and alerts: written inside the caller's transaction, so a change and its
record commit together or not at all."""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlalchemy import Connection, text

from contracts.roles import Access
from storage.sqlite.db import Database, now_ms

AlertLevel = Literal["info", "warning", "critical"]


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def write_audit(
    conn: Connection, *, actor: str, action: str, entity: str, before: Any, after: Any
) -> None:
    conn.execute(text("""INSERT INTO audit_log (at, actor, action, entity, before, after)
                         VALUES (:at, :actor, :action, :entity, :before, :after)"""),
                 {"at": now_ms(), "actor": actor, "action": action, "entity": entity, "before": _json(before),
                  "after": _json(after)})


# One cause may raise at most BURST alerts within WINDOW_MS (an outage, a flood of strangers, a
# feed failing on every poll); past that, the newest of them counts the rest. A trader reads one
# alert and a count, and the notifier (which sends new rows) is not flooded either.
BURST = 10
WINDOW_MS = 60_000


def raise_alert(conn: Connection, *, level: AlertLevel, source: str, code: str, message: str,
                subject: str | None = None) -> bool:
    """`subject` names what the alert is about when its message varies (a price, a count): the
    notifier de-duplicates repeats by code and subject rather than by the whole message, and the
    burst limit counts alerts by code and subject. True when a new alert row was written; False
    when the burst limit folded this one into the newest alert of its cause."""
    at = now_ms()
    recent = conn.execute(text("""SELECT COUNT(*), MAX(id) FROM alerts WHERE code = :code
                                  AND COALESCE(subject, '') = :subject AND created_at > :since"""),
                          {"code": code, "subject": subject or "", "since": at - WINDOW_MS}).one()
    if recent[0] >= BURST:
        conn.execute(text("UPDATE alerts SET repeats = repeats + 1, last_at = :at WHERE id = :id"),
                     {"at": at, "id": recent[1]})
        return False
    conn.execute(text("""INSERT INTO alerts (created_at, level, source, code, message, subject)
                         VALUES (:at, :level, :source, :code, :message, :subject)"""),
                 {"at": at, "level": level, "source": source, "code": code, "message": message,
                  "subject": subject})
    return True


def ack_alert(conn: Connection, alert_id: int, *, actor: str) -> bool:
    """Acknowledge one alert (audited); False if it was already acknowledged or is unknown."""
    changed = conn.execute(text("""UPDATE alerts SET acked_at = :at, acked_by = :actor
                                   WHERE id = :id AND acked_at IS NULL"""),
                           {"at": now_ms(), "actor": actor, "id": alert_id}).rowcount
    if changed:
        write_audit(conn, actor=actor, action="alert.ack", entity=f"alert:{alert_id}",
                    before={"acked": False}, after={"acked": True})
    return bool(changed)


def record_refusal(db: Database, access: Access, reason: str, *, entity: str) -> None:
    """A write refused for its role (a forced button, a bot command of a viewer's chat): audited
    `access.refused`, naming who and why. `db`: a writable handle (a viewer's own reads only)."""
    with db.write() as conn:
        write_audit(conn, actor=access.actor, action="access.refused", entity=entity, before=None,
                    after={"user": access.user, "role": access.role.value, "refused": reason[:500]})
