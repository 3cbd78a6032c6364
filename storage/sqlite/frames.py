"""Small helpers the read modules share: run a query into a DataFrame, apply human units."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import text

from contracts.order_status import TERMINAL_RANK
from storage.sqlite.db import Database
from storage.sqlite.db import utc_day_start as utc_day_start  # re-exported: one definition for engine and dashboard

MICRO = 1_000_000
OPEN_RANK = TERMINAL_RANK  # orders with status_rank below this are working


def frame(db: Database, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    with db.read() as conn:
        return pd.read_sql(text(sql), conn, params=params or {})


def scalar(db: Database, sql: str, params: dict[str, Any] | None = None) -> Any:
    with db.read() as conn:
        return conn.execute(text(sql), params or {}).scalar()


def to_utc(data: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Epoch-millisecond columns -> timezone-aware UTC timestamps, for display."""
    for column in columns:
        data[column] = pd.to_datetime(data[column], unit="ms", utc=True)
    return data


def to_human(data: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Micro-unit columns (pUSD, shares, probability) -> floats in the human unit (display only)."""
    for column in columns:
        data[column] = data[column].astype("float64") / MICRO
    return data


def where(clauses: list[str]) -> str:
    return " AND ".join(clauses) if clauses else "1 = 1"
