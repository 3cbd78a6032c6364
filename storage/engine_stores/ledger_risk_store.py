"""The one store of a venue ledger's risk memory (engine/risk/ledger_risk.py): the `venue_risk`
table, one row per (venue, mode) for every ledger but the desk's (the desk's own stays on the
engine_state row). Polymarket's paper ledger is the row (polymarket, paper), Kalshi's ledger
(kalshi, paper) or (kalshi, live); no row yet means a ledger whose breakers never moved (ACTIVE).

Read with sqlite3 alone, so `engine status` imports no SQLAlchemy; the engine and the dashboard pass
their SQLAlchemy connection, whose DBAPI connection is sqlite3's (the same transaction)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass(frozen=True)
class LedgerRisk:
    """What a ledger's breakers remember: its trading state, the reason, the peak of its equity and
    its equity at the start of the UTC day (and when that day started), micro-units and epoch ms."""

    trading_state: str = "ACTIVE"
    reason: str | None = None
    peak_equity: int | None = None
    day_start_equity: int | None = None
    day_started_at: int | None = None


def _dbapi(conn: sqlite3.Connection | Connection) -> sqlite3.Connection:
    if isinstance(conn, sqlite3.Connection):
        return conn
    return conn.connection.driver_connection  # type: ignore[return-value]  # SQLAlchemy types the DBAPI connection loosely; it is sqlite3's


def read(conn: sqlite3.Connection | Connection, venue: str, mode: str) -> LedgerRisk:
    """The ledger (venue, mode)'s memory; a fresh one (ACTIVE, nothing remembered) before its first write."""
    row = _dbapi(conn).execute("""SELECT trading_state, reason, peak_equity, day_start_equity, day_started_at
                                  FROM venue_risk WHERE venue = ? AND mode = ?""", (venue, mode)).fetchone()
    return LedgerRisk() if row is None else LedgerRisk(*row)


def write(conn: sqlite3.Connection | Connection, venue: str, mode: str, risk: LedgerRisk, now: int) -> None:
    _dbapi(conn).execute(
        """INSERT INTO venue_risk (venue, mode, trading_state, reason, peak_equity, day_start_equity,
                                   day_started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (mode, venue) DO UPDATE SET trading_state = excluded.trading_state,
               reason = excluded.reason, peak_equity = excluded.peak_equity,
               day_start_equity = excluded.day_start_equity, day_started_at = excluded.day_started_at,
               updated_at = excluded.updated_at""",
        (venue, mode, risk.trading_state, risk.reason, risk.peak_equity, risk.day_start_equity,
         risk.day_started_at, now))
