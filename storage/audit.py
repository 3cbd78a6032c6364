"""Audit rows and alerts: written inside the caller's transaction, so a change and its
record commit together or not at all."""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlalchemy import Connection, insert, update

from storage.db import now_ms
from storage.models import Alert, AuditLog

AlertLevel = Literal["info", "warning", "critical"]


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def write_audit(
    conn: Connection, *, actor: str, action: str, entity: str, before: Any, after: Any
) -> None:
    conn.execute(
        insert(AuditLog.__table__).values(
            at=now_ms(), actor=actor, action=action, entity=entity,
            before=_json(before), after=_json(after),
        )
    )


def raise_alert(conn: Connection, *, level: AlertLevel, source: str, code: str, message: str,
                subject: str | None = None) -> None:
    """`subject` names what the alert is about when its message varies (a price, a count): the
    notifier de-duplicates repeats by code and subject rather than by the whole message."""
    conn.execute(
        insert(Alert.__table__).values(
            created_at=now_ms(), level=level, source=source, code=code, message=message, subject=subject
        )
    )


def ack_alert(conn: Connection, alert_id: int, *, actor: str) -> bool:
    """Acknowledge one alert (audited); False if it was already acknowledged or is unknown."""
    table = Alert.__table__
    changed = conn.execute(
        update(table)
        .where(table.c.id == alert_id, table.c.acked_at.is_(None))
        .values(acked_at=now_ms(), acked_by=actor)
    ).rowcount
    if changed:
        write_audit(conn, actor=actor, action="alert.ack", entity=f"alert:{alert_id}",
                    before={"acked": False}, after={"acked": True})
    return bool(changed)
