"""SQLModel classes mirroring storage/migrations.py (which is the source of truth).

Declared SQL types are spelled out (`INTEGER`, `TEXT`) so the mirror test compares them
exactly. Conventions: money, prices and sizes are integer micro-units; `*_at` columns are
epoch milliseconds (storage/db.py); JSON columns are TEXT.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, Integer, Text
from sqlmodel import Field, SQLModel


def int_col(*, nullable: bool = False, primary_key: bool = False, **kw: Any) -> Any:
    return Field(sa_type=Integer, nullable=nullable, primary_key=primary_key, **kw)


def text_col(*, nullable: bool = False, primary_key: bool = False, **kw: Any) -> Any:
    return Field(sa_type=Text, nullable=nullable, primary_key=primary_key, **kw)


class EngineState(SQLModel, table=True):
    __tablename__ = "engine_state"

    id: int = int_col(primary_key=True, default=1)
    state: str = text_col(default="IDLE")
    desired_state: str = text_col(default="STOPPED")
    mode: str = text_col(default="paper")
    pid: int | None = int_col(nullable=True, default=None)
    started_at: int | None = int_col(nullable=True, default=None)
    heartbeat_at: int | None = int_col(nullable=True, default=None)
    kill_latched: int = int_col(default=0)
    killed_at: int | None = int_col(nullable=True, default=None)
    kill_reason: str | None = text_col(nullable=True, default=None)
    crash_count: int = int_col(default=0)
    recent_crashes: str = text_col(default="[]")
    clean_exit: int = int_col(default=1)
    last_error: str | None = text_col(nullable=True, default=None)
    updated_at: int = int_col()


class Command(SQLModel, table=True):
    __tablename__ = "commands"
    __table_args__ = (
        Index("ix_commands_queue", "status", "priority", "id"),
        Index("ix_commands_created", "created_at"),
    )

    id: int | None = int_col(primary_key=True, default=None)
    idempotency_key: str = text_col(unique=True)
    kind: str = text_col()
    payload: str = text_col(default="{}")
    priority: int = int_col(default=0)
    status: str = text_col(default="pending")
    actor: str = text_col()
    created_at: int = int_col()
    expires_at: int | None = int_col(nullable=True, default=None)
    claimed_at: int | None = int_col(nullable=True, default=None)
    finished_at: int | None = int_col(nullable=True, default=None)
    result: str | None = text_col(nullable=True, default=None)
    error: str | None = text_col(nullable=True, default=None)


class Setting(SQLModel, table=True):
    __tablename__ = "settings"

    key: str = text_col(primary_key=True)
    value: str = text_col()
    version: int = int_col(default=1)
    updated_at: int = int_col()
    updated_by: str = text_col()


class RiskLimit(SQLModel, table=True):
    __tablename__ = "risk_limits"

    name: str = text_col(primary_key=True)
    value: str = text_col()
    version: int = int_col(default=1)
    updated_at: int = int_col()
    updated_by: str = text_col()


class Strategy(SQLModel, table=True):
    __tablename__ = "strategies"

    id: int | None = int_col(primary_key=True, default=None)
    name: str = text_col(unique=True)
    kind: str = text_col()
    params: str = text_col(default="{}")
    markets: str = text_col(default="[]")
    enabled: int = int_col(default=0)
    version: int = int_col(default=1)
    created_at: int = int_col()
    updated_at: int = int_col()
    updated_by: str = text_col()


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_created", "created_at"),)

    id: int | None = int_col(primary_key=True, default=None)
    created_at: int = int_col()
    level: str = text_col()
    source: str = text_col()
    code: str = text_col()
    message: str = text_col()
    acked_at: int | None = int_col(nullable=True, default=None)
    acked_by: str | None = text_col(nullable=True, default=None)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: int | None = int_col(primary_key=True, default=None)
    at: int = int_col()
    actor: str = text_col()
    action: str = text_col()
    entity: str = text_col()
    before: str | None = text_col(nullable=True, default=None)
    after: str | None = text_col(nullable=True, default=None)
