"""Market ids named in the free text of a table the dashboard shows (market_names.py's rule over
a frame's columns). Apart from market_names.py so `status` reads without pandas."""

from __future__ import annotations

import sqlite3

import pandas as pd

from storage.dashboard_queries.market_names import name_markets, sqlite_lookup
from storage.sqlite.db import Database


def named_columns(db: Database, frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """`frame` with the market ids written into its free-text `columns` named (a decision's
    detail, an audit entry's entity and payloads); the id columns themselves stay as they are."""
    if frame.empty:
        return frame
    with db.read() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)  # the desk's database is SQLite
        lookup = sqlite_lookup(raw)
        named = {c: name_markets(frame[c].fillna("").astype(str), lookup) for c in columns}
    return frame.assign(**{c: [v if orig is not None else None for v, orig in zip(named[c], frame[c], strict=True)]
                           for c in columns})
