"""Posting an operator command: validate the payload, insert the row once per idempotency key,
write its audit row. sqlite3 only, so `python -m engine command` answers without importing
SQLAlchemy; `storage.command_queue.commands.post_command` (dashboard, tests) runs the same insert on the
DBAPI connection under its own transaction, so there is one way a command gets queued.

The insert checks who posts (contracts/roles.py), inside its transaction, before the row is written:
a dashboard session or a Telegram chat passes its `Access`; the CLI none (the machine's user). The
venues a command touches are read here: its market's, its strategy's, its order's.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contracts.command_kinds import KINDS as REGISTRY
from contracts.roles import COMMAND_SCOPES, Access, AccessRefused, Scope, refusal, strategy_venues
from contracts.venues import VENUES, venue_of
from storage.command_queue.command_payloads import kill_reason
from storage.command_queue.command_payloads import parse as parse_payload
from storage.sqlite.lite import DatabaseBusy, immediate, now_ms, raw_connection, sqlite_locked

# A kind's priority and expiry are its entry in the one registry (contracts/command_kinds.py).
PRIORITY = {kind.name: kind.priority for kind in REGISTRY}
NEVER_EXPIRES = frozenset(kind.name for kind in REGISTRY if kind.never_expires)
# The audit row names the command and shows a short payload in full; a longer one is already in
# the command row, so the audit keeps its head and length only (never a second copy).
AUDIT_PAYLOAD_CHARS = 512
AUDIT_HEAD_CHARS = 200

Payload = str | Mapping[str, Any] | None


def prepare(kind: str, payload: Payload, *, actor: str, key: str, ttl_s: int,
            now: int | None = None) -> dict[str, Any]:
    """The row to insert, or PayloadError (an unknown kind, a payload that does not fit its
    kind): nothing is stored for a refused command. A kill is never refused: a payload it
    cannot read becomes its reason."""
    if kind == "kill":
        body = json.dumps({"reason": kill_reason(payload)})
    else:
        body = json.dumps(parse_payload(kind, payload), sort_keys=True)
    now = now_ms() if now is None else now
    return {
        "idempotency_key": key,
        "kind": kind,
        "payload": body,
        "priority": PRIORITY[kind],
        "status": "pending",
        "actor": actor,
        "created_at": now,
        "expires_at": None if kind in NEVER_EXPIRES else now + ttl_s * 1000,
    }


def audit_after(kind: str, body: str) -> dict[str, Any]:
    """What a command's audit row records: its payload as JSON in the row's JSON (stored as text
    it read as escaped JSON inside JSON), or only the head of a long one (as text: a cut
    document is no longer JSON)."""
    if len(body) <= AUDIT_PAYLOAD_CHARS:
        try:
            return {"kind": kind, "payload": json.loads(body)}
        except ValueError:
            return {"kind": kind, "payload": body}
    return {"kind": kind, "payload_head": body[:AUDIT_HEAD_CHARS], "payload_chars": len(body)}


def venues_named(conn: sqlite3.Connection, payload: Mapping[str, Any]) -> frozenset[str]:
    """The venues a command's payload reaches: its market's, its strategy's, its order's (none: the whole
    desk). What cannot be read counts as every venue: a check must not pass on what it could not see."""
    venues: set[str] = set()
    market = payload.get("condition_id")
    if isinstance(market, str) and market:
        venues.add(venue_of(market))
    strategy = payload.get("strategy")
    if isinstance(strategy, str) and strategy:
        row = conn.execute("SELECT kind, markets FROM strategies WHERE name = ?", (strategy,)).fetchone()
        try:
            venues |= strategy_venues(row[0], json.loads(row[1])) if row else set()
        except (TypeError, ValueError):
            venues |= set(VENUES)
    for column in ("order_id", "client_id"):
        if payload.get(column) is not None:
            key = "id" if column == "order_id" else "client_id"
            row = conn.execute(f"SELECT venue FROM orders WHERE {key} = ?", (payload[column],)).fetchone()
            venues |= {row[0]} if row else set()
    for column, table in (("iceberg_id", "icebergs"), ("trail_id", "trailing_stops")):  # a standing order's
        if payload.get(column) is not None:
            row = conn.execute(f"SELECT venue FROM {table} WHERE id = ?", (payload[column],)).fetchone()
            venues |= {row[0]} if row else set()
    return frozenset(venues)


def check_access(conn: sqlite3.Connection, access: Access | None, kind: str, body: str) -> None:
    """Raise AccessRefused unless `access` may post this command (a kind no role table places is the
    administrator's alone)."""
    if access is None:
        return
    scope = COMMAND_SCOPES.get(kind, Scope.ADMIN)
    payload = json.loads(body)
    venues = venues_named(conn, payload) if scope is Scope.VENUE and isinstance(payload, dict) else frozenset()
    reason = refusal(access, f"the {kind} command", scope=scope, venues=venues)
    if reason is not None:
        raise AccessRefused(reason)


def insert(conn: sqlite3.Connection, values: dict[str, Any], access: Access | None = None) -> dict[str, Any]:
    """Insert (inside the caller's write transaction) and return the row; a repeated key
    returns the first row and writes no second audit row. `access`: who posts (None: the machine's
    user); AccessRefused, before anything is written, when its role does not allow the command."""
    check_access(conn, access, values["kind"], values["payload"])
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    inserted = cursor.execute(f"INSERT INTO commands ({columns}) VALUES ({marks}) "
                              "ON CONFLICT (idempotency_key) DO NOTHING", values).rowcount == 1
    row = dict(cursor.execute("SELECT * FROM commands WHERE idempotency_key = ?",
                              (values["idempotency_key"],)).fetchone())
    if inserted:
        after = json.dumps(audit_after(row["kind"], row["payload"]), sort_keys=True, default=str)
        cursor.execute("INSERT INTO audit_log (at, actor, action, entity, before, after) VALUES (?, ?, ?, ?, NULL, ?)",
                       (now_ms(), values["actor"], "command.post", f"command:{row['id']}", after))
    return row


def busy_message(kind: str, waited_s: float) -> str:
    return (f"the database stayed locked by another process for {waited_s:.0f} s, so the {kind} command was not "
            "queued; close whatever holds it (a sqlite3 shell, a backup) and try again"
            + (", or cancel at the venue directly: python -m engine cancel-all" if kind == "kill" else ""))


def post(path: Path, values: dict[str, Any], *, lock_wait_s: float, access: Access | None = None) -> dict[str, Any]:
    """The CLI's (and the bot's, with its chat's `access`) post: one connection that waits up to
    `lock_wait_s` for another process's write lock, then raises DatabaseBusy saying so (never a raw
    "database is locked")."""
    started = time.monotonic()
    conn = raw_connection(path, busy_timeout_ms=max(1, int(lock_wait_s * 1000)))
    try:
        with immediate(conn):
            return insert(conn, values, access)
    except sqlite3.OperationalError as exc:
        if not sqlite_locked(exc):
            raise
        raise DatabaseBusy(busy_message(values["kind"], time.monotonic() - started)) from None
    finally:
        conn.close()
