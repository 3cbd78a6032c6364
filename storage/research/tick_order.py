"""Keeping the recording in time order where imports meet.

A replay reads `ticks` in id order (storage order: engine/backtest/replay.py), which is time order
for what one recorder or one import wrote. Two imports of the same hours (the PMXT archive's books
of a market, then Kalshi's history of its pair, or the other way round) would otherwise replay all
of the first before any of the second. After an import, if the span already held other ticks, the
span's ticks are rewritten in (time, id) order: ids change, nothing else does.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

COLUMNS = "at, token_id, kind, side, price, size, mid, data"


def resequence_if_mixed(conn: Connection, start: int, end: int, first_new_id: int) -> int:
    """Rewrite the ticks of [start, end] in time order when ticks older than this import (id up to
    `first_new_id`) lie in it; returns how many were rewritten (0: nothing to do)."""
    older = conn.execute(text("SELECT 1 FROM ticks WHERE at BETWEEN :a AND :b AND id <= :f LIMIT 1"),
                         {"a": start, "b": end, "f": first_new_id}).first()
    if older is None:
        return 0
    last = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM ticks")).scalar_one()
    conn.execute(text(f"""INSERT INTO ticks ({COLUMNS}) SELECT {COLUMNS} FROM ticks
                          WHERE at BETWEEN :a AND :b AND id <= :last ORDER BY at, id"""),
                 {"a": start, "b": end, "last": last})
    return int(conn.execute(text("DELETE FROM ticks WHERE at BETWEEN :a AND :b AND id <= :last"),
                            {"a": start, "b": end, "last": last}).rowcount)
