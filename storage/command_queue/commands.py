"""The operator command queue: the only path from the dashboard or CLI to the engine.

A command is posted once per idempotency key (a duplicate key returns the first row),
claimed by priority with one `UPDATE ... RETURNING`, and finished with a result or an
error. Pending commands past `expires_at` are expired, never applied: a `start` queued
while the engine was down must not fire hours later. `kill` never expires.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.sql.elements import BindParameter

from contracts.roles import AccessRefused
from storage.command_queue import posting
from storage.command_queue.posting import NEVER_EXPIRES as NEVER_EXPIRES
from storage.command_queue.posting import PRIORITY as PRIORITY
from storage.sqlite.db import Database, DatabaseBusy, is_locked, now_ms

# Priorities and expiry rules live with the one insert (storage/command_queue/posting.py).
TERMINAL = frozenset({"done", "failed", "expired"})
_KINDS: BindParameter[Any] = bindparam("kinds", expanding=True)  # `kind IN :kinds`, one parameter per kind


@dataclass(frozen=True)
class CommandRow:
    id: int
    idempotency_key: str
    kind: str
    payload: str
    priority: int
    status: str
    actor: str
    created_at: int
    expires_at: int | None
    claimed_at: int | None
    finished_at: int | None
    result: str | None
    error: str | None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def latency_ms(self) -> int | None:
        return None if self.finished_at is None else self.finished_at - self.created_at


def _row(mapping: Any) -> CommandRow:
    return CommandRow(**{f: mapping[f] for f in CommandRow.__dataclass_fields__})


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def post_command(
    db: Database,
    kind: str,
    payload: str | dict[str, Any] | None = None,
    *,
    actor: str,
    idempotency_key: str | None = None,
    ttl_s: int = 60,
    lock_wait_s: float = 10.0,
) -> CommandRow:
    """Queue a command (audited) and return its row; a repeated key returns the original row.

    The payload is checked first against the command's schema (storage/command_queue/command_payloads.py):
    an unknown kind or a malformed, oversized or unexpected payload raises PayloadError and
    nothing is stored. A kill is never refused: a payload it cannot read becomes its reason.
    While another process holds the database's write lock it tries again for `lock_wait_s`,
    then raises DatabaseBusy saying so (never a raw "database is locked"). Posted through a handle
    `acting_as` a login, a command its role does not allow is refused (`Database.refuse`) and nothing
    is stored.
    """
    values = posting.prepare(kind, payload, actor=actor, key=idempotency_key or new_idempotency_key(),
                             ttl_s=ttl_s)
    deadline = time.monotonic() + lock_wait_s
    while True:
        try:
            with db.write() as conn:
                return _row(posting.insert(conn.connection.driver_connection, values, db.access))  # type: ignore[arg-type]  # SQLAlchemy types the DBAPI connection loosely; it is sqlite3's
        except AccessRefused as refused:
            db.refuse(str(refused))  # outside the transaction, rolled back: a refusal may be audited
        except Exception as exc:
            if not is_locked(exc):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(posting.busy_message(kind, lock_wait_s)) from None
            time.sleep(0.05)


def claim_next(conn: Connection, now: int, kinds: tuple[str, ...] | None = None) -> CommandRow | None:
    """Expire overdue pending commands, then claim the highest-priority pending one
    (of `kinds`, when given). Runs inside the caller's write transaction so expiry and
    claim are one unit.
    """
    conn.execute(text("""UPDATE commands SET status = 'expired', finished_at = :now,
                             error = 'expired before the engine picked it up'
                         WHERE status = 'pending' AND expires_at IS NOT NULL AND expires_at < :now"""),
                 {"now": now})
    of_kinds = "" if kinds is None else "AND kind IN :kinds"
    claim = text(f"""UPDATE commands SET status = 'claimed', claimed_at = :now
                     WHERE status = 'pending' AND id = (
                         SELECT id FROM commands WHERE status = 'pending' {of_kinds}
                         ORDER BY priority DESC, id LIMIT 1)
                     RETURNING *""")
    params: dict[str, Any] = {"now": now}
    if kinds is not None:
        claim, params["kinds"] = claim.bindparams(_KINDS), list(kinds)
    claimed = conn.execute(claim, params).mappings().first()
    return None if claimed is None else _row(claimed)


def finish(conn: Connection, command_id: int, *, ok: bool, result: Any = None, error: str | None = None) -> None:
    """Acknowledge a claimed command with its result (done) or a readable error (failed)."""
    values: dict[str, Any] = {"id": command_id, "status": "done" if ok else "failed", "now": now_ms(),
                              "error": error}
    keeps = not (result is not None or ok)  # a failed command keeps what it had done (command_effects.note)
    values["result"] = None if result is None else json.dumps(result, sort_keys=True, default=str)
    conn.execute(text(f"""UPDATE commands SET status = :status, finished_at = :now, error = :error,
                              result = {"result" if keeps else ":result"}
                          WHERE id = :id AND status = 'claimed'"""), values)


def expire_stale_claims(conn: Connection, now: int) -> list[CommandRow]:
    """At start-up: commands a dead process claimed are expired, never replayed."""
    rows = conn.execute(text("""UPDATE commands SET status = 'expired', finished_at = :now,
                                    error = :why
                                WHERE status = 'claimed' RETURNING *"""),
                        {"now": now, "why": "claimed by an engine that stopped before finishing it; not replayed"}
                        ).mappings().all()
    return [_row(r) for r in rows]


def has_pending(conn: Connection, kinds: tuple[str, ...] | None = None) -> bool:
    """A cheap indexed probe, so the engine can poll often without taking the write lock."""
    if kinds is None:
        return conn.execute(text("SELECT 1 FROM commands WHERE status = 'pending' LIMIT 1")).first() \
            is not None
    probe = text("SELECT 1 FROM commands WHERE status = 'pending' AND kind IN :kinds LIMIT 1")
    probe = probe.bindparams(_KINDS)
    return conn.execute(probe, {"kinds": list(kinds)}).first() is not None


def pending_id(conn: Connection, kind: str) -> int | None:
    """The oldest pending command of this kind, if any (a read: works while another process
    holds the write lock)."""
    found = conn.execute(text("""SELECT id FROM commands WHERE status = 'pending' AND kind = :kind
                                 ORDER BY id LIMIT 1"""), {"kind": kind}).scalar()
    return None if found is None else int(found)


def get_command(conn: Connection, command_id: int) -> CommandRow | None:
    found = conn.execute(text("SELECT * FROM commands WHERE id = :id"), {"id": command_id}).mappings().first()
    return None if found is None else _row(found)
