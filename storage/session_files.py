"""A recording session as a file another desk imports (`session export`, `import-history --file`).

The file is JSON Lines, gzip-compressed when its name ends in `.gz`: the first line is the
header (format, version, the session's name, notes and span, and the full rows of its markets
as the `markets` table holds them), each further line one tick as the recorder wrote it:
`[at, token_id, kind, side, price, size, mid, data]` (prices and sizes in micro-units, times in
ms UTC). Decision markers (token '') come along: a backtest decides where the recording desk
decided.

Import is all or nothing (one transaction), validates every line, and refuses to mix: if this
desk already has ticks of those markets inside the span, nothing is imported.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, text

from storage.audit import write_audit
from storage.db import Database, now_ms
from storage.recording_sessions import (
    Session,
    SessionError,
    _find,
    _taken,
    check_name,
    check_notes,
    get_session,
    recorded_markets,
    session_tokens,
)

FORMAT = "polymarket-desk-recording-session"
VERSION = 1
KINDS = ("book", "change", "trade", "decide")
BATCH = 5000
Progress = Callable[[int], None]


def _open(path: Path, mode: str, *, named: Path | None = None) -> IO[str]:
    """`path` opened as text, gzip when `named` (the file's final name) ends in .gz."""
    if (named or path).suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8")


# -- export -----------------------------------------------------------------------------------


def export_session(db: Database, name: str, path: Path, *, progress: Progress | None = None) -> int:
    """Write the session to `path`; returns the ticks written. An open session is exported up
    to now (and says so in its header: `stopped_at` is the moment of the export)."""
    session = get_session(db, name)
    start, end = session.span(now_ms())
    markets = list(session.markets) or recorded_markets(db, start, end)
    with db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            text("SELECT * FROM markets WHERE condition_id IN (SELECT value FROM json_each(:m)) ORDER BY condition_id"),
            {"m": json.dumps(markets)})]
        tokens = session_tokens(conn, markets)
    header = {"format": FORMAT, "version": VERSION,
              "session": {"name": session.name, "notes": session.notes, "started_at": start, "stopped_at": end,
                          "markets": markets},
              "markets": rows}
    written = 0
    tmp = path.with_name(f".{path.name}.part")
    with _open(tmp, "w", named=path) as out:
        out.write(json.dumps(header, separators=(",", ":")) + "\n")
        for batch in _ticks(db, tokens, start, end):
            out.writelines(json.dumps(list(r), separators=(",", ":")) + "\n" for r in batch)
            written += len(batch)
            if progress is not None:
                progress(written)
    tmp.replace(path)  # a half-written export never carries the final name
    return written


def _ticks(db: Database, tokens: list[str], start: int, end: int) -> Iterator[list[tuple[Any, ...]]]:
    """The session's ticks and decision markers in recorded order, in batches (by id, so a
    week of ticks is never in memory at once)."""
    last = -1
    while True:
        with db.read() as conn:
            batch = [tuple(r) for r in conn.execute(text(
                """SELECT id, at, token_id, kind, side, price, size, mid, data FROM ticks
                   WHERE at BETWEEN :a AND :b AND id > :last
                     AND (token_id = '' OR token_id IN (SELECT value FROM json_each(:t)))
                   ORDER BY id LIMIT :n"""), {"a": start, "b": end, "last": last, "t": json.dumps(tokens), "n": BATCH})]
        if not batch:
            return
        last = batch[-1][0]
        yield [r[1:] for r in batch]


# -- import -----------------------------------------------------------------------------------


def _header(line: str, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SessionError(f"{path} is not an exported recording session (`python -m engine session export` "
                           "writes one)")
    if header.get("version") != VERSION:
        raise SessionError(f"{path} is a session file of version {header.get('version')!r}; this desk reads "
                           f"version {VERSION}")
    session, markets = header.get("session"), header.get("markets")
    if not isinstance(session, dict) or not isinstance(markets, list) or not all(isinstance(m, dict) for m in markets):
        raise SessionError(f"{path}: the header's session or markets are malformed")
    start, end = session.get("started_at"), session.get("stopped_at")
    if not isinstance(start, int) or not isinstance(end, int) or end < start:
        raise SessionError(f"{path}: the session's span is malformed")
    for market in markets:
        if not all(isinstance(market.get(k), str) and market.get(k) for k in ("condition_id", "yes_token",
                                                                              "no_token", "question")):
            raise SessionError(f"{path}: a market in the header lacks its condition id, tokens or question")
    return header


def _tick(raw: str, number: int, tokens: set[str], span: tuple[int, int]) -> dict[str, Any]:
    try:
        at, token, kind, side, price, size, mid, data = json.loads(raw)
    except (json.JSONDecodeError, ValueError, TypeError):
        raise SessionError(f"line {number}: not a tick ([at, token_id, kind, side, price, size, mid, data])") from None
    ints_ok = all(v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**53)
                  for v in (price, size, mid))
    problems = [
        not isinstance(at, int) or not span[0] <= at <= span[1],
        kind not in KINDS,
        (token not in tokens) if kind != "decide" else token != "",
        side not in (None, "BUY", "SELL"),
        not ints_ok,
        data is not None and not isinstance(data, str),
    ]
    if any(problems):
        raise SessionError(f"line {number}: a tick outside the session's span or markets, or malformed")
    return {"at": at, "token_id": token, "kind": kind, "side": side, "price": price, "size": size, "mid": mid,
            "data": data}


def import_session(db: Database, path: Path, *, actor: str, name: str | None = None,
                   progress: Progress | None = None) -> tuple[Session, int]:
    """Import an exported session; returns it and the ticks imported."""
    if not path.is_file():
        raise SessionError(f"no file {str(path)!r}")
    try:
        with _open(path, "r") as lines:
            return _import(db, lines, path, actor=actor, name=name, progress=progress)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise SessionError(f"{path}: cannot be read ({exc})") from None


def _import(db: Database, lines: IO[str], path: Path, *, actor: str, name: str | None,
            progress: Progress | None) -> tuple[Session, int]:
    header = _header(lines.readline(), path)
    meta, markets = header["session"], header["markets"]
    session_name = check_name(name if name is not None else meta.get("name"))
    notes = check_notes(meta.get("notes") or "")
    span = (meta["started_at"], meta["stopped_at"])
    tokens = {t for m in markets for t in (m["yes_token"], m["no_token"])}
    imported = 0
    with db.write() as conn:
        _taken(conn, session_name)
        _refuse_mixing(conn, tokens, span)
        _insert_markets(conn, markets)
        batch: list[dict[str, Any]] = []
        for number, raw in enumerate(lines, start=2):
            if raw.strip():
                batch.append(_tick(raw, number, tokens, span))
            if len(batch) >= BATCH:
                imported += _insert_ticks(conn, batch)
                batch = []
                if progress is not None:
                    progress(imported)
        imported += _insert_ticks(conn, batch)
        conn.execute(text("""INSERT INTO recording_sessions (name, notes, markets, started_at, stopped_at, origin,
                                                             created_by, updated_at)
                             VALUES (:n, :notes, :m, :a, :b, 'imported', :by, :now)"""),
                     {"n": session_name, "notes": notes, "m": json.dumps(sorted(m["condition_id"] for m in markets)),
                      "a": span[0], "b": span[1], "by": actor, "now": now_ms()})
        session = _find(conn, session_name)
        write_audit(conn, actor=actor, action="session.import", entity=f"session:{session_name}", before=None,
                    after={**session.as_dict(), "file": path.name, "ticks": imported})
    return session, imported


def _refuse_mixing(conn: Connection, tokens: set[str], span: tuple[int, int]) -> None:
    found = conn.execute(text("""SELECT COUNT(*) FROM ticks WHERE token_id IN (SELECT value FROM json_each(:t))
                                 AND at BETWEEN :a AND :b"""),
                         {"t": json.dumps(sorted(tokens)), "a": span[0], "b": span[1]}).scalar_one()
    if found:
        raise SessionError(f"this desk already has {found:,} ticks of these markets inside the session's span; "
                           "importing would mix two recordings of the same market, so nothing was imported")


def _insert_markets(conn: Connection, markets: list[dict[str, Any]]) -> None:
    """Markets this desk does not know, as the exporter had them (a backtest trades them as the
    exporting desk could); a market known here keeps this desk's row, and the engine's own
    discovery updates an imported one when it lists the market."""
    columns = {r[1] for r in conn.execute(text("PRAGMA table_info(markets)"))}
    for market in markets:
        row = {k: v for k, v in market.items() if k in columns and (v is None or isinstance(v, (str, int, float)))}
        names = sorted(row)
        conn.execute(text(f"INSERT INTO markets ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
                          "ON CONFLICT (condition_id) DO NOTHING"), row)


def _insert_ticks(conn: Connection, batch: list[dict[str, Any]]) -> int:
    if batch:
        conn.execute(text("""INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data)
                             VALUES (:at, :token_id, :kind, :side, :price, :size, :mid, :data)"""), batch)
    return len(batch)
