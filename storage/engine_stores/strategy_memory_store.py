"""The SQL of strategies' memory (`strategy_memory`, engine/trading/hosting/strategy_memory.py): one row a
strategy, its warm state as JSON, saved and read back, with what the last start did with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from storage.sqlite.db import Database
from storage.sqlite.sql import run, run_many


@dataclass(frozen=True)
class Saved:
    strategy: str
    kind: str
    params_hash: str
    memory: str  # JSON
    saved_at: int


def save(db: Database, rows: Sequence[Saved]) -> None:
    """Keep each strategy's latest memory (one row a strategy)."""
    if not rows:
        return
    with db.write() as conn:
        run_many(conn, """INSERT INTO strategy_memory (strategy, kind, params_hash, memory, saved_at)
                          VALUES (?, ?, ?, ?, ?)
                          ON CONFLICT (strategy) DO UPDATE SET kind = excluded.kind,
                              params_hash = excluded.params_hash, memory = excluded.memory,
                              saved_at = excluded.saved_at""",
                 [(r.strategy, r.kind, r.params_hash, r.memory, r.saved_at) for r in rows])


def load(db: Database, strategy: str) -> Saved | None:
    with db.read() as conn:
        row = run(conn, """SELECT strategy, kind, params_hash, memory, saved_at FROM strategy_memory
                           WHERE strategy = ?""", (strategy,)).fetchone()
    return None if row is None else Saved(*row)


def note_outcome(conn: Connection, strategy: str, outcome: str, now: int) -> None:
    """What a start did with the stored memory (restored, or why not)."""
    run(conn, "UPDATE strategy_memory SET outcome = ?, restored_at = ? WHERE strategy = ?",
        (outcome[:300], now, strategy))


def forget(conn: Connection, strategy: str) -> None:
    run(conn, "DELETE FROM strategy_memory WHERE strategy = ?", (strategy,))
