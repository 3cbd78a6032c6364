"""The standing orders the dashboard shows (migration 0171, written by the engine alone): the icebergs and
trailing stops still working in one market, in one mode, and what each has done."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from storage.sqlite.db import Database


def working(db: Database, condition_id: str, mode: str) -> dict[str, list[dict[str, Any]]]:
    """{"icebergs": [...], "trails": [...]}: those of `condition_id` in `mode` still working, oldest first; an
    iceberg with what its slices filled (`filled`, micro-shares)."""
    with db.read() as conn:
        icebergs = [dict(r) for r in conn.execute(text(
            """SELECT i.id, i.venue, i.outcome, i.side, i.price, i.total, i.slice, i.created_at,
                      COALESCE((SELECT SUM(o.filled) FROM orders o
                                WHERE o.venue = i.venue AND o.mode = i.mode AND o.strategy = i.strategy
                                  AND (o.reason = 'iceberg #' || i.id OR o.reason LIKE 'iceberg #' || i.id || ':%')),
                               0) AS filled
               FROM icebergs i WHERE i.condition_id = :c AND i.mode = :m AND i.status = 'ACTIVE' ORDER BY i.id"""),
            {"c": condition_id, "m": mode}).mappings()]
        trails = [dict(r) for r in conn.execute(text(
            """SELECT id, venue, strategy, outcome, high_water, distance, floor, shares, status, created_at
               FROM trailing_stops WHERE condition_id = :c AND mode = :m AND status IN ('ACTIVE', 'TRIGGERED')
               ORDER BY id"""), {"c": condition_id, "m": mode}).mappings()]
    return {"icebergs": icebergs, "trails": trails}
