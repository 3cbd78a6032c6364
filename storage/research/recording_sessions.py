"""Recording sessions: named time spans of the desk's recording, with their markets and notes.

A session owns no ticks of its own: it is a row naming a span of the `ticks` table (from
`started_at` to `stopped_at`, open while it records) and the markets it is about (none: every
market the engine recorded in the span). The recorder keeps writing one continuous stream; a
session marks what the operator wants to keep, find and replay by name. Retention never
prunes a tick a session covers (`KEPT_BY_A_SESSION`), and deleting a session removes only the
ticks no other session covers.

An imported session (`origin = 'imported'`) is another desk's export (`export_session`): its
ticks are inserted into `ticks` and its markets into `markets` (as the exporting desk had them, when
this desk does not know them), so backtests and the simulator's replay read it like one
recorded here.

Every write is one IMMEDIATE transaction with its audit row, like every configuration write
(storage/desk/config.py); names, notes and markets are validated here, whoever calls (the
dashboard, the CLI, a test).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from storage.desk.audit import write_audit
from storage.sqlite.db import Database, now_ms

NAME_CHARS = 80
NOTES_CHARS = 2000
MAX_MARKETS = 500
OPEN_END = 2**62  # an open session's span, in SQL: "until now and on"
NAME_RE = re.compile(r"^[\w][\w .:@+()/-]*$")

# A tick is kept while a session covers it: inside the span, and of the session's markets
# (or any market when it names none); decision markers (token '') belong to every market. An
# import in progress keeps the ticks it wrote so far (storage/research/import_jobs.py).
KEPT_BY_A_SESSION = """(EXISTS (SELECT 1 FROM recording_sessions s
    WHERE ticks.at BETWEEN s.started_at AND COALESCE(s.stopped_at, 4611686018427387904)
      AND (s.markets = '[]' OR ticks.token_id = '' OR ticks.token_id IN (
           SELECT m.yes_token FROM markets m JOIN json_each(s.markets) j ON m.condition_id = j.value
           UNION ALL
           SELECT m.no_token FROM markets m JOIN json_each(s.markets) j ON m.condition_id = j.value)))
    OR EXISTS (SELECT 1 FROM session_imports i WHERE ticks.id > i.first_tick_id
               AND ticks.at BETWEEN i.started_at AND i.stopped_at))"""


class SessionError(ValueError):
    """A session write that was refused; the message is meant for the operator."""


@dataclass(frozen=True)
class Session:
    id: int
    name: str
    notes: str
    markets: tuple[str, ...]
    started_at: int
    stopped_at: int | None
    origin: str
    created_by: str

    @property
    def recording(self) -> bool:
        return self.stopped_at is None

    def span(self, now: int) -> tuple[int, int]:
        """(from, to) in ms: an open session runs until `now`."""
        return self.started_at, self.stopped_at if self.stopped_at is not None else max(now, self.started_at)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "notes": self.notes, "markets": list(self.markets),
                "started_at": self.started_at, "stopped_at": self.stopped_at, "origin": self.origin,
                "created_by": self.created_by}


def check_name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise SessionError("a session needs a name")
    name = raw.strip()
    if len(name) > NAME_CHARS:
        raise SessionError(f"a session's name has at most {NAME_CHARS} characters")
    if not NAME_RE.match(name):
        raise SessionError(f"{name[:NAME_CHARS]!r}: a session's name uses letters, digits, spaces and . _ : @ + ( ) "
                           f"/ -, "
                           "and starts with a letter or digit")
    return name


def check_notes(raw: Any) -> str:
    if not isinstance(raw, str):
        raise SessionError("notes are text")
    if len(raw) > NOTES_CHARS:
        raise SessionError(f"notes have at most {NOTES_CHARS} characters (these have {len(raw):,})")
    return raw.strip()


def _session(row: Any) -> Session:
    return Session(int(row.id), row.name, row.notes, tuple(json.loads(row.markets)), int(row.started_at),
                   None if row.stopped_at is None else int(row.stopped_at), row.origin, row.created_by)


def _find(conn: Connection, name: str) -> Session:
    row = conn.execute(text("SELECT * FROM recording_sessions WHERE name = :n"), {"n": name}).first()
    if row is None:
        raise SessionError(f"there is no recording session named {name[:NAME_CHARS]!r} "
                           "(`python -m engine session list` lists them)")
    return _session(row)


def _checked_markets(conn: Connection, markets: Any) -> list[str]:
    if not isinstance(markets, (list, tuple)) or not all(isinstance(m, str) and m.strip() for m in markets):
        raise SessionError("markets are a list of condition ids")
    chosen = sorted({m.strip() for m in markets})
    if len(chosen) > MAX_MARKETS:
        raise SessionError(f"a session names at most {MAX_MARKETS} markets (none: every market recorded)")
    known = {r[0] for r in conn.execute(text("SELECT condition_id FROM markets WHERE condition_id IN "
                                             "(SELECT value FROM json_each(:m))"), {"m": json.dumps(chosen)})}
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise SessionError(f"unknown markets (not discovered by the engine): {', '.join(unknown[:5])}"
                           + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""))
    return chosen


def _taken(conn: Connection, name: str) -> None:
    if conn.execute(text("SELECT 1 FROM recording_sessions WHERE name = :n"), {"n": name}).first() is not None:
        raise SessionError(f"a session named {name!r} already exists: pick another name")


# -- writes (each audited) -----------------------------------------------------------------


def start_session(db: Database, *, name: str, actor: str, markets: Any = (), notes: str = "",
                  now: int | None = None) -> Session:
    """A new session, recording from now until it is stopped."""
    name, notes = check_name(name), check_notes(notes)
    at = now_ms() if now is None else now
    with db.write() as conn:
        _taken(conn, name)
        chosen = _checked_markets(conn, list(markets))
        conn.execute(text("""INSERT INTO recording_sessions (name, notes, markets, started_at, created_by, updated_at)
                             VALUES (:n, :notes, :m, :at, :by, :at)"""),
                     {"n": name, "notes": notes, "m": json.dumps(chosen), "at": at, "by": actor})
        session = _find(conn, name)
        write_audit(conn, actor=actor, action="session.start", entity=f"session:{name}", before=None,
                    after=session.as_dict())
    return session


def stop_session(db: Database, *, name: str, actor: str, now: int | None = None) -> Session:
    at = now_ms() if now is None else now
    with db.write() as conn:
        before = _find(conn, check_name(name))
        if not before.recording:
            raise SessionError(f"session {before.name!r} is already stopped")
        conn.execute(text("UPDATE recording_sessions SET stopped_at = :at, updated_at = :at WHERE id = :id"),
                     {"at": max(at, before.started_at), "id": before.id})
        after = _find(conn, before.name)
        write_audit(conn, actor=actor, action="session.stop", entity=f"session:{before.name}",
                    before={"stopped_at": None}, after={"stopped_at": after.stopped_at})
    return after


def rename_session(db: Database, *, name: str, new_name: str, actor: str) -> Session:
    new_name = check_name(new_name)
    with db.write() as conn:
        before = _find(conn, check_name(name))
        if new_name == before.name:
            return before
        _taken(conn, new_name)
        conn.execute(text("UPDATE recording_sessions SET name = :new, updated_at = :now WHERE id = :id"),
                     {"new": new_name, "now": now_ms(), "id": before.id})
        write_audit(conn, actor=actor, action="session.rename", entity=f"session:{before.id}",
                    before={"name": before.name}, after={"name": new_name})
        return _find(conn, new_name)


def annotate_session(db: Database, *, name: str, notes: str, actor: str) -> Session:
    notes = check_notes(notes)
    with db.write() as conn:
        before = _find(conn, check_name(name))
        conn.execute(text("UPDATE recording_sessions SET notes = :notes, updated_at = :now WHERE id = :id"),
                     {"notes": notes, "now": now_ms(), "id": before.id})
        write_audit(conn, actor=actor, action="session.annotate", entity=f"session:{before.name}",
                    before={"notes": before.notes}, after={"notes": notes})
        return _find(conn, before.name)


def delete_session(db: Database, *, name: str, actor: str) -> int:
    """Remove a stopped session and the ticks of its span and markets that no other session
    covers; returns how many ticks went. A session still recording is refused (stop it first)."""
    with db.write() as conn:
        session = _find(conn, check_name(name))
        if session.recording:
            raise SessionError(f"session {session.name!r} is still recording: stop it first")
        conn.execute(text("DELETE FROM recording_sessions WHERE id = :id"), {"id": session.id})
        removed = conn.execute(text(f"""DELETE FROM ticks WHERE at BETWEEN :a AND :b AND ({_of_markets(':m')})
                                        AND NOT {KEPT_BY_A_SESSION}"""),
                               {"a": session.started_at, "b": session.stopped_at,
                                "m": json.dumps(list(session.markets))}).rowcount
        write_audit(conn, actor=actor, action="session.delete", entity=f"session:{session.name}",
                    before={**session.as_dict(), "ticks": removed}, after=None)
    return int(removed)


def _of_markets(param: str) -> str:
    """SQL: the tick belongs to the markets named by the JSON list `param` ('[]': any)."""
    return f"""{param} = '[]' OR ticks.token_id = '' OR ticks.token_id IN (
        SELECT m.yes_token FROM markets m JOIN json_each({param}) j ON m.condition_id = j.value
        UNION ALL SELECT m.no_token FROM markets m JOIN json_each({param}) j ON m.condition_id = j.value)"""


# -- reads ------------------------------------------------------------------------------------


def get_session(db: Database, name: str) -> Session:
    with db.read() as conn:
        return _find(conn, check_name(name))


def sessions(db: Database) -> list[Session]:
    """Every session, the newest first."""
    with db.read() as conn:
        return [_session(r) for r in conn.execute(text("SELECT * FROM recording_sessions ORDER BY started_at DESC, "
                                                       "id DESC"))]


def session_names(db: Database) -> list[str]:
    return [s.name for s in sessions(db)]


def session_tokens(conn: Connection, markets: tuple[str, ...] | list[str]) -> list[str]:
    rows = conn.execute(text("""SELECT yes_token, no_token FROM markets WHERE condition_id IN
                                (SELECT value FROM json_each(:m)) ORDER BY condition_id"""),
                        {"m": json.dumps(list(markets))})
    return [t for r in rows for t in (r[0], r[1])]


def tick_count(db: Database, session: Session, now: int | None = None) -> int:
    """Ticks in the session's span and markets (decision markers not counted)."""
    start, end = session.span(now_ms() if now is None else now)
    with db.read() as conn:
        if not session.markets:
            return int(conn.execute(text("SELECT COUNT(*) FROM ticks WHERE at BETWEEN :a AND :b AND token_id != ''"),
                                    {"a": start, "b": end}).scalar_one())
        tokens = session_tokens(conn, session.markets)
        return int(conn.execute(text("""SELECT COUNT(*) FROM ticks WHERE token_id IN (SELECT value FROM json_each(:t))
                                        AND at BETWEEN :a AND :b"""),
                                {"t": json.dumps(tokens), "a": start, "b": end}).scalar_one())


def recorded_markets(db: Database, start: int, end: int) -> list[str]:
    """Condition ids of the markets with ticks between `start` and `end` (an all-markets
    session's markets, as exported)."""
    with db.read() as conn:
        return [r[0] for r in conn.execute(text("""SELECT condition_id FROM markets m WHERE EXISTS (
                SELECT 1 FROM ticks t WHERE t.token_id IN (m.yes_token, m.no_token) AND t.at BETWEEN :a AND :b)
                ORDER BY condition_id"""), {"a": start, "b": end})]


def known_markets(db: Database, *, limit: int = 2000) -> list[tuple[str, str]]:
    """(condition id, question) of the markets the engine knows, by question (a session's
    market choices)."""
    with db.read() as conn:
        return [(r[0], r[1]) for r in conn.execute(text("SELECT condition_id, question FROM markets "
                                                        "ORDER BY question LIMIT :n"), {"n": limit})]
