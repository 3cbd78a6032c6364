"""Long writes into the desk's database in bounded batches that yield to the engine.

One transaction for a 3 M-tick import held SQLite's single write lock for 36-40 s: the engine's
writes (each waits at most 100 ms: storage/sqlite/db.py, ENGINE_BUSY_TIMEOUT_MS) and the kill's
own claim and answer waited behind it. Here a long write commits every BATCH rows (tens of
milliseconds) and then pauses PAUSE_S (storage/sqlite/db.py says why that long), so whatever
waits for the lock gets it between two batches: a kill is answered within a second or two
whatever is being imported.

An import is still all or nothing for its reader: its session row (what the dashboard lists and
backtests replay) is written last, and until then a `session_imports` row says whose ticks the
ones above `first_tick_id` in its span are (retention keeps them). A refused file's ticks are
removed at once; an import whose process died is undone by the next import or retention run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from storage.sqlite.db import LONG_WRITE_BATCH as BATCH
from storage.sqlite.db import LONG_WRITE_PAUSE_S as PAUSE_S
from storage.sqlite.db import Database, now_ms


def paced(db: Database, batches: Iterable[list[Any]], write: Callable[[Connection, list[Any]], int],
          progress: Callable[[int], None] | None = None) -> int:
    """Each batch written in its own short transaction, a pause after each; returns the rows written."""
    written = 0
    for batch in batches:
        if not batch:
            continue
        with db.write() as conn:
            written += write(conn, batch)
        if progress is not None:
            progress(written)
        time.sleep(PAUSE_S)
    return written


@dataclass(frozen=True)
class ImportJob:
    id: int
    tokens: tuple[str, ...]
    started_at: int
    stopped_at: int
    first_tick_id: int


def begin(conn: Connection, name: str, tokens: Iterable[str], markets_added: Iterable[str],
          span: tuple[int, int]) -> ImportJob:
    """Note the import before its first tick is written (in the caller's transaction)."""
    first = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM ticks")).scalar_one()
    wanted = tuple(sorted(tokens))
    job_id = conn.execute(text("""INSERT INTO session_imports (name, tokens, markets_added, started_at, stopped_at,
                                                             first_tick_id, pid, began_at)
                                  VALUES (:n, :t, :m, :a, :b, :f, :pid, :now) RETURNING id"""),
                          {"n": name, "t": json.dumps(wanted), "m": json.dumps(sorted(markets_added)), "a": span[0],
                           "b": span[1], "f": first, "pid": os.getpid(), "now": now_ms()}).scalar_one()
    return ImportJob(job_id, wanted, span[0], span[1], first)


# The job's ticks: above its first id, inside its span, of its tokens or decision markers.
_OWN = """id > :f AND at BETWEEN :a AND :b AND (token_id = '' OR token_id IN (SELECT value FROM json_each(:t)))"""


def _own(job: ImportJob) -> dict[str, Any]:
    return {"f": job.first_tick_id, "a": job.started_at, "b": job.stopped_at, "t": json.dumps(job.tokens)}


def drop_repeats(db: Database, job: ImportJob) -> int:
    """Remove the job's ticks that repeat an earlier one of the job exactly (every column but the
    id), keeping the first; in batches of ids, each its own short transaction. Returns how many went."""
    with db.read() as conn:
        last = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM ticks")).scalar_one()
    removed = 0
    for low in range(job.first_tick_id + 1, last + 1, BATCH * 5):
        with db.write() as conn:
            removed += int(conn.execute(text(f"""
                DELETE FROM ticks WHERE id BETWEEN :lo AND :hi AND {_OWN} AND EXISTS (
                    SELECT 1 FROM ticks e WHERE e.token_id = ticks.token_id AND e.at = ticks.at AND e.id > :f
                      AND e.id < ticks.id AND e.kind IS ticks.kind AND e.side IS ticks.side
                      AND e.price IS ticks.price AND e.size IS ticks.size AND e.mid IS ticks.mid
                      AND e.data IS ticks.data)"""), {**_own(job), "lo": low, "hi": low + BATCH * 5 - 1}).rowcount)
        time.sleep(PAUSE_S)
    return removed


def finish(conn: Connection, job: ImportJob) -> None:
    """The session row is written (in the caller's transaction): the ticks are the session's now."""
    conn.execute(text("DELETE FROM session_imports WHERE id = :i"), {"i": job.id})


def undo(db: Database, job: ImportJob, markets_added: Iterable[str]) -> None:
    """Remove what a refused or interrupted import wrote: its ticks (in batches), the markets it
    added (unless another session has taken them since), and its row."""
    while True:
        with db.write() as conn:
            gone = conn.execute(text(f"DELETE FROM ticks WHERE id IN (SELECT id FROM ticks WHERE {_OWN} LIMIT :n)"),
                                {**_own(job), "n": BATCH * 5}).rowcount
        if gone < BATCH * 5:
            break
        time.sleep(PAUSE_S)
    with db.write() as conn:
        conn.execute(text("""DELETE FROM markets WHERE origin = 'imported'
                             AND condition_id IN (SELECT value FROM json_each(:m))
                             AND NOT EXISTS (SELECT 1 FROM recording_sessions s, json_each(s.markets) j
                                             WHERE j.value = markets.condition_id)"""),
                     {"m": json.dumps(sorted(markets_added))})
        conn.execute(text("DELETE FROM session_imports WHERE id = :i"), {"i": job.id})


def undo_interrupted(db: Database) -> int:
    """Undo every import whose process is gone (it died mid-import); returns how many."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT id, tokens, markets_added, started_at, stopped_at, first_tick_id, pid
                                    FROM session_imports""")).all()
    undone = 0
    for row in rows:
        if _alive(row.pid):
            continue
        job = ImportJob(row.id, tuple(json.loads(row.tokens)), row.started_at, row.stopped_at, row.first_tick_id)
        undo(db, job, json.loads(row.markets_added))
        undone += 1
    return undone


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process's own import, running now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
