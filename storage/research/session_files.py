"""A recording session as a file another desk imports (`session export`, `import-history --file`).

The file is JSON Lines, gzip-compressed when its name ends in `.gz`: the first line is the
header (format, version, the session's name, notes and span, the full rows of its markets
as the `markets` table holds them, and how those that ended did: `resolutions`, as
storage/research/market_resolutions.py keeps them, taken only for the markets the file brings), each
further line one tick as the recorder wrote it:
`[at, token_id, kind, side, price, size, mid, data]` (prices and sizes in micro-units, times in
ms UTC). Decision markers (token '') come along: a backtest decides where the recording desk
decided.

Import is all or nothing (every refusal a SessionError that says why, and what was written
before it removed; the session row, what readers list and replay, written last) and never
holds the write lock for long: ticks go in in short batches that let the engine's writes in
between (storage/research/import_jobs.py). It trusts nothing in the file
(storage/research/session_checks.py checks its header's markets field by field
and each tick line, all bounded). It refuses to mix (this desk already has ticks of those
markets inside the span), to replace or shadow a market this desk knows (a token it knows
under another market), and drops exact repeats of a line. A market this desk does not know is
stored marked `imported`: replayed by backtests, never loaded by the live desk.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from contracts.jsonsafe import JsonRefused, loads_bounded
from storage.desk.audit import write_audit
from storage.research import import_jobs, market_resolutions
from storage.research.recording_sessions import (
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
from storage.research.session_checks import LINE_BYTES, checked_tick, header_markets, header_resolutions
from storage.research.session_history import checked_history, history_of, tick_changes
from storage.research.session_history import store as store_history
from storage.research.tick_order import resequence_if_mixed
from storage.sqlite.db import Database, now_ms

FORMAT = "polymarket-desk-recording-session"
VERSION = 1
BATCH = 5000
HEADER_BYTES = 16 * 2**20  # a header names at most 500 markets, each a few kB
LATEST_TIME = 4_102_444_800_000  # 2100-01-01 in ms: no recording is stamped later (2^70 is a typo or an attack)
Progress = Callable[[int], None]


def _open(path: Path, mode: str, *, named: Path | None = None) -> IO[str]:
    """`path` opened as text, gzip when `named` (the file's final name) ends in .gz."""
    if (named or path).suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]  # text mode: gzip gives a TextIO
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
        history = history_of(conn, session.id)
        changes = tick_changes(conn, tokens, start, end)
        ends = [r.as_json() for r in market_resolutions.of_markets(conn, markets)]
    if history is not None or changes:
        history = {**(history or {"source": "recorded", "layouts": [], "prints": "recorded"}), "tick_sizes": changes}
    header = {"format": FORMAT, "version": VERSION,
              "session": {"name": session.name, "notes": session.notes, "started_at": start, "stopped_at": end,
                          "markets": markets, **({"history": history} if history is not None else {})},
              "markets": rows, **({"resolutions": ends} if ends else {})}
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


def _line(lines: IO[str], number: int, most: int) -> str:
    """Line `number` (1-based) read with a bound: a file of one endless line is refused, never
    read whole into memory."""
    raw = lines.readline(most + 1)
    if len(raw) > most:
        raise SessionError(f"line {number} is longer than {most:,} characters: not a line this desk writes")
    return raw


def _header(line: str, path: Path) -> dict[str, Any]:
    try:
        header = loads_bounded(line, max_bytes=HEADER_BYTES, max_depth=6, what="the header")
    except JsonRefused:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SessionError(f"{path} is not an exported recording session (`python -m engine session export` "
                           "writes one)")
    if header.get("version") != VERSION:
        raise SessionError(f"{path} is a session file of version {str(header.get('version'))[:20]!r}; this desk "
                           f"reads version {VERSION}")
    session = header.get("session")
    if not isinstance(session, dict):
        raise SessionError(f"{path}: the header's session is malformed")
    start, end = session.get("started_at"), session.get("stopped_at")
    if type(start) is not int or type(end) is not int or not 0 <= start <= end:  # (a bool is no time)
        raise SessionError(f"{path}: the session's span is malformed")
    if end > LATEST_TIME:
        raise SessionError(f"{path}: the session's span runs past the year 2100 (to {end:,} ms): not a recording's")
    return header


def import_session(db: Database, path: Path, *, actor: str, name: str | None = None,
                   progress: Progress | None = None) -> tuple[Session, int]:
    """Import an exported session; returns it and the ticks imported. All or nothing: any
    refusal (a SessionError saying why) leaves the desk as it was."""
    if not path.is_file():
        raise SessionError(f"no file {str(path)!r}")
    import_jobs.undo_interrupted(db)  # an import that died mid-way leaves nothing behind
    try:
        with _open(path, "r") as lines:
            return _import(db, lines, path, actor=actor, name=name, progress=progress)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise SessionError(f"{path}: cannot be read ({exc}); nothing was imported") from None
    except SQLAlchemyError as exc:  # checked first, so only an unforeseen conflict lands here
        reason = getattr(exc, "orig", None) or exc
        raise SessionError(f"{path}: the database refused the import ({reason}); nothing was imported") from None


def _import(db: Database, lines: IO[str], path: Path, *, actor: str, name: str | None,
            progress: Progress | None) -> tuple[Session, int]:
    header = _header(_line(lines, 1, HEADER_BYTES), path)
    meta = header["session"]
    session_name = check_name(name if name is not None else meta.get("name"))
    notes = check_notes(meta.get("notes") or "")
    span = (meta["started_at"], meta["stopped_at"])
    markets = header_markets(header.get("markets"))
    tokens = {t for m in markets for t in (m["yes_token"], m["no_token"])}
    history = checked_history(meta.get("history"), tokens, span)
    ends = header_resolutions(header.get("resolutions"), {m["condition_id"] for m in markets})
    with db.write() as conn:
        _taken(conn, session_name)
        unknown = _unknown_markets(conn, markets)
        _refuse_mixing(conn, tokens, span)
        _insert_markets(conn, unknown)
        added = [m["condition_id"] for m in unknown]
        job = import_jobs.begin(conn, session_name, tokens, added, span)
    try:
        inserted = import_jobs.paced(db, _checked_batches(lines, tokens, span), _insert_ticks, progress)
        imported = inserted - import_jobs.drop_repeats(db, job)
        with db.write() as conn:
            _taken(conn, session_name)  # (another import may have taken the name meanwhile)
            resequence_if_mixed(conn, span[0], span[1], job.first_tick_id)  # another import's ticks of these hours
            session = _record(conn, job, session_name, notes, markets, span, actor, path.name, imported, added)
            store_history(conn, session.id, history)
            # How its markets ended, for those the file brought: a market this desk knows keeps what it knows.
            market_resolutions.keep(conn, [r for r in ends if r.condition_id in added], by=actor)
    except BaseException:
        import_jobs.undo(db, job, added)
        raise
    return session, imported


def _checked_batches(lines: IO[str], tokens: set[str], span: tuple[int, int]) -> Iterator[list[dict[str, Any]]]:
    """The file's tick lines, each checked, in batches (line 1 is the header, read already)."""
    numbered = _numbered_lines(lines)
    while batch := [checked_tick(raw, number, tokens, span) for number, raw in islice(numbered, import_jobs.BATCH)
                    if raw.strip()]:
        yield batch


def _numbered_lines(lines: IO[str]) -> Iterator[tuple[int, str]]:
    number = 1
    while raw := _line(lines, number + 1, LINE_BYTES):
        number += 1
        yield number, raw


def _record(conn: Connection, job: import_jobs.ImportJob, session_name: str, notes: str,
            markets: list[dict[str, Any]], span: tuple[int, int], actor: str, file: str, imported: int,
            added: list[str]) -> Session:
    """The session row and its audit, the import's bookkeeping closed: the ticks are the session's."""
    conn.execute(text("""INSERT INTO recording_sessions (name, notes, markets, started_at, stopped_at, origin,
                                                         created_by, updated_at)
                         VALUES (:n, :notes, :m, :a, :b, 'imported', :by, :now)"""),
                 {"n": session_name, "notes": notes, "m": json.dumps(sorted(m["condition_id"] for m in markets)),
                  "a": span[0], "b": span[1], "by": actor, "now": now_ms()})
    session = _find(conn, session_name)
    write_audit(conn, actor=actor, action="session.import", entity=f"session:{session_name}", before=None,
                after={**session.as_dict(), "file": file, "ticks": imported, "markets_added": sorted(added)})
    import_jobs.finish(conn, job)
    return session


def _refuse_mixing(conn: Connection, tokens: set[str], span: tuple[int, int]) -> None:
    found = conn.execute(text("""SELECT COUNT(*) FROM ticks WHERE token_id IN (SELECT value FROM json_each(:t))
                                 AND at BETWEEN :a AND :b"""),
                         {"t": json.dumps(sorted(tokens)), "a": span[0], "b": span[1]}).scalar_one()
    if found:
        raise SessionError(f"this desk already has {found:,} ticks of these markets inside the session's span; "
                           "importing would mix two recordings of the same market, so nothing was imported")


def _unknown_markets(conn: Connection, markets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The file's markets this desk does not know. A market it knows keeps this desk's row (the
    file's must name the same tokens); a token this desk knows under another market refuses
    the file: a session file never replaces or shadows a market the desk lists."""
    wanted = json.dumps(sorted({k for m in markets for k in (m["condition_id"], m["yes_token"], m["no_token"])}))
    known = conn.execute(text("""SELECT condition_id, yes_token, no_token FROM markets
                                 WHERE condition_id IN (SELECT value FROM json_each(:w))
                                    OR yes_token IN (SELECT value FROM json_each(:w))
                                    OR no_token IN (SELECT value FROM json_each(:w))"""), {"w": wanted}).all()
    by_id = {cid: (yes, no) for cid, yes, no in known}
    by_token = {token: cid for cid, yes, no in known for token in (yes, no)}
    unknown = []
    for market in markets:
        cid, own = market["condition_id"], (market["yes_token"], market["no_token"])
        if cid in by_id and by_id[cid] != own:
            raise SessionError(f"market {cid}: this desk knows it with other tokens; nothing was imported")
        taken = next((by_token[t] for t in own if by_token.get(t, cid) != cid), None)
        if taken is not None:
            raise SessionError(f"market {cid}: its tokens are those of market {taken} on this desk (a session file "
                               "never replaces or shadows a market the desk knows); nothing was imported")
        if cid not in by_id:
            unknown.append(market)
    return unknown


def _insert_markets(conn: Connection, markets: list[dict[str, Any]]) -> None:
    """Markets this desk does not know, as the file has them, marked imported: a backtest
    replays them as the exporting desk traded them, but the live desk never loads one
    (engine/feeds/catalog.py), and the activity figures a file claims are not taken (0). The
    venue's own discovery replaces such a row if it ever lists the market."""
    now = now_ms()
    for market in markets:
        row = {**market, "volume": 0, "volume_24h": 0, "liquidity": 0, "origin": "imported",
               "first_seen_at": now, "updated_at": now}
        names = sorted(row)
        conn.execute(text(f"INSERT INTO markets ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"),
                     row)


def _insert_ticks(conn: Connection, batch: list[dict[str, Any]]) -> int:
    if batch:
        conn.execute(text("""INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data)
                             VALUES (:at, :token_id, :kind, :side, :price, :size, :mid, :data)"""), batch)
    return len(batch)
