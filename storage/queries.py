"""Read functions for the dashboard and the CLI (pages never write SQL themselves).

Each function takes a `Database` (opened read-only by the dashboard) and returns plain
values or DataFrames with human units already applied where a page would otherwise
have to know the storage conventions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sqlalchemy import text

from storage.db import Database, now_ms

HEARTBEAT_STALE_S = 5.0


@dataclass(frozen=True)
class EngineStatus:
    state: str
    desired_state: str
    mode: str
    kill_latched: bool
    kill_reason: str | None
    pid: int | None
    heartbeat_age_s: float | None
    started_at: int | None
    crash_count: int
    last_error: str | None

    @property
    def heartbeat_stale(self) -> bool:
        return self.heartbeat_age_s is None or self.heartbeat_age_s > HEARTBEAT_STALE_S

    @property
    def engine_up(self) -> bool:
        return self.pid is not None and not self.heartbeat_stale

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "heartbeat_stale": self.heartbeat_stale, "engine_up": self.engine_up}


def engine_status(db: Database, *, now: int | None = None) -> EngineStatus:
    now = now_ms() if now is None else now
    with db.read() as conn:
        row = conn.execute(text("SELECT * FROM engine_state WHERE id = 1")).mappings().one()
    beat = row["heartbeat_at"]
    return EngineStatus(
        state=row["state"],
        desired_state=row["desired_state"],
        mode=row["mode"],
        kill_latched=bool(row["kill_latched"]),
        kill_reason=row["kill_reason"],
        pid=row["pid"],
        heartbeat_age_s=None if beat is None else max(0.0, (now - beat) / 1000),
        started_at=row["started_at"],
        crash_count=row["crash_count"],
        last_error=row["last_error"],
    )


def _frame(db: Database, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    with db.read() as conn:
        return pd.read_sql(text(sql), conn, params=params or {})


def to_utc(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Epoch-millisecond columns -> timezone-aware UTC timestamps, for display."""
    for column in columns:
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    return frame


def recent_commands(db: Database, limit: int = 20) -> pd.DataFrame:
    frame = _frame(
        db,
        """SELECT id, kind, status, actor, created_at, finished_at,
                  finished_at - created_at AS latency_ms, result, error
           FROM commands ORDER BY id DESC LIMIT :limit""",
        {"limit": limit},
    )
    return to_utc(frame, "created_at", "finished_at")


def command_status(db: Database, command_id: int) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(
            text("SELECT id, kind, status, result, error, created_at, finished_at FROM commands WHERE id = :id"),
            {"id": command_id},
        ).mappings().first()
    return None if row is None else dict(row)


def alerts(db: Database, *, unacked_only: bool = False, limit: int = 50) -> pd.DataFrame:
    where = "WHERE acked_at IS NULL" if unacked_only else ""
    frame = _frame(
        db,
        f"SELECT id, created_at, level, source, code, message, acked_at, acked_by "
        f"FROM alerts {where} ORDER BY id DESC LIMIT :limit",
        {"limit": limit},
    )
    return to_utc(frame, "created_at", "acked_at")


def unacked_alert_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM alerts WHERE acked_at IS NULL")).scalar_one())


def status_summary(db: Database) -> dict[str, Any]:
    """What `python -m engine status` prints: the operator's one-glance health check."""
    status = engine_status(db)
    age = status.heartbeat_age_s
    return {
        "state": status.state,
        "desired_state": status.desired_state,
        "mode": status.mode,
        "kill_latched": status.kill_latched,
        "kill_reason": status.kill_reason,
        "engine_up": status.engine_up,
        "heartbeat_age_s": None if age is None else round(age, 2),
        "pid": status.pid,
        "crash_count": status.crash_count,
        "last_error": status.last_error,
        "unacked_alerts": unacked_alert_count(db),
    }
