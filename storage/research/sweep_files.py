"""The setting a SQLite study file keeps for a sweep's workers (engine/backtest/sweep_storage.py
opens the study; storage/research/sweep_queries.py reads it for the dashboard)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

BUSY_TIMEOUT_S = 60


def use_wal(path: Path) -> None:
    """WAL for a study file (it stays set in the file): with the default rollback journal every
    reader (each worker's sampler reads all trials) blocks the other workers' writes, and
    SQLite's busy waits then cost the second worker much of its core."""
    with contextlib.closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
