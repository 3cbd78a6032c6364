"""The desk's own reads for the dashboard and the CLI: engine status, commands, alerts, limits and
settings (pages never write SQL themselves; the other reads live in *_queries.py, by subject).

Each function takes a `Database` (read through its query_only connection) and returns plain
values or DataFrames with human units already applied: money in pUSD, sizes in shares,
prices as probabilities (floats, for display only; the ledger stays integer micro-units)
and times as timezone-aware UTC timestamps. Every list is bounded (LIMIT, SQL aggregation
or SQL downsampling), so pages stay fast on a database with millions of rows.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlmodel import Session, col, select

from contracts.jsonsafe import preview, read_stored
from contracts.tables import RiskLimit
from storage.dashboard_queries.market_names import name_markets, sqlite_lookup
from storage.desk import arming, desk_idle, desk_status
from storage.desk.desk_status import SHOWN_MESSAGE, EngineStatus
from storage.sqlite.db import Database, now_ms
from storage.sqlite.frames import frame as _frame
from storage.sqlite.frames import scalar as _scalar
from storage.sqlite.frames import to_utc


def _raw(conn: Any) -> Any:
    """The sqlite3 connection under a SQLAlchemy one (storage.desk.desk_status reads with sqlite3)."""
    return conn.connection.driver_connection


def engine_status(db: Database, *, now: int | None = None) -> EngineStatus:
    with db.read() as conn:
        return desk_status.engine_status(_raw(conn), db.path, now=now)


def idle_reasons(db: Database, mode: str, *, now: int | None = None) -> list[str]:
    """Why a trading desk has no order working (storage/desk/desk_idle.py; empty: orders work)."""
    with db.read() as conn:
        return desk_idle.idle_reasons(_raw(conn), mode, now_ms() if now is None else now)


def strategies_idle(db: Database, status: EngineStatus, *, now: int | None = None) -> dict[str, str]:
    """Why each strategy places nothing now (storage/desk/desk_idle.py; absent: it trades)."""
    with db.read() as conn:
        return desk_idle.strategies_idle(_raw(conn), status, now_ms() if now is None else now)


def arming_gate(db: Database, venue: str, *, now: int | None = None) -> arming.Gate:
    """The arming checklist of `venue` (storage/desk/arming.py) as the running engine's reads make it."""
    now = now_ms() if now is None else now
    with db.read() as conn:
        status = desk_status.engine_status(_raw(conn), db.path, now=now)
        reads = arming.engine_reads(_raw(conn), venue, up=status.engine_up)
        return arming.venue_gate(_raw(conn), venue, reads, now)


# -- commands, alerts, CLI summary ------------------------------------------------------------


def recent_commands(db: Database, limit: int = 20, *, leave_out: tuple[str, ...] = ()) -> pd.DataFrame:
    """The newest commands, but for the kinds in `leave_out`."""
    frame = _frame(
        db,
        """SELECT id, kind, status, actor, created_at, finished_at,
                  finished_at - created_at AS latency_ms, result, error
           FROM commands WHERE kind NOT IN (SELECT value FROM json_each(:out)) ORDER BY id DESC LIMIT :limit""",
        {"limit": limit, "out": json.dumps(list(leave_out))},
    )
    return to_utc(frame, "created_at", "finished_at")


def command_status(db: Database, command_id: int) -> dict[str, Any] | None:
    with db.read() as conn:
        return desk_status.command_status(_raw(conn), command_id)


def alerts(
    db: Database, *, unacked_only: bool = False, level: str | None = None, limit: int = 50
) -> pd.DataFrame:
    where = ["1 = 1"]
    if unacked_only:
        where.append("acked_at IS NULL")
    if level:
        where.append("level = :level")
    frame = _frame(
        db,
        f"SELECT id, created_at, level, source, code, {SHOWN_MESSAGE} AS message, acked_at, acked_by "
        f"FROM alerts WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT :limit",
        {"limit": limit, "level": level},
    )
    if not frame.empty:
        with db.read() as conn:
            frame["message"] = name_markets(frame["message"], sqlite_lookup(_raw(conn)))
    return to_utc(frame, "created_at", "acked_at")


def unacked_alert_count(db: Database) -> int:
    return int(_scalar(db, "SELECT COUNT(*) FROM alerts WHERE acked_at IS NULL"))


def status_summary(db: Database) -> dict[str, Any]:
    """What `python -m engine status` prints: the operator's one-glance health check."""
    with db.read() as conn:
        return desk_status.status_report(_raw(conn), db.path)


# -- configuration reads --------------------------------------------------------------------------


def risk_limit_rows(db: Database) -> pd.DataFrame:
    """Stored limits: name, value (decimal string, human unit), version, updated_at, updated_by."""
    columns = ["name", "value", "version", "updated_at", "updated_by"]
    with db.read() as conn:
        rows = Session(bind=conn).exec(select(RiskLimit).order_by(col(RiskLimit.name))).all()
    return to_utc(pd.DataFrame([row.model_dump(include=set(columns)) for row in rows], columns=columns), "updated_at")


def engine_settings(db: Database) -> dict[str, dict[str, Any]]:
    """key -> {"value": decoded JSON, "problem", "version", "updated_at", "updated_by"}. A stored
    value that cannot be read (malformed, too big or too deep) is its text, shortened, with the
    reason in "problem"."""
    with db.read() as conn:
        rows = (
            conn.execute(text("SELECT key, value, version, updated_at, updated_by FROM settings"))
            .mappings()
            .all()
        )
    out = {}
    for row in rows:
        value, problem = read_stored(row["value"])
        out[row["key"]] = {
            "value": preview(row["value"]) if problem else value,
            "problem": problem,
            "version": row["version"],
            "updated_at": row["updated_at"],
            "updated_by": row["updated_by"],
        }
    return out
