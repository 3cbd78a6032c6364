"""The markout job: completes each fill's markouts once their horizons have passed, from the
mid history the desk keeps (the recorder's `ticks`), and at resolution from what the token paid.

Crash safety: a horizon's markout is a row in `fill_markouts`, written once and final; a
missing row is work still to do. The job looks for fills missing a row whose horizon the
recorded history has reached, so after a restart it picks up exactly where it was (its first
pass scans every fill; later passes start at the first fill it left incomplete).

A horizon is computed once the recorder has written a row at or after it (any token or a
decision marker: the recorder writes in the order it saw events, so the history is complete
up to there). If the engine was down across a horizon, the mid there is the last one the desk
saw before it: the best it knows, and said so in the README.
"""

from __future__ import annotations

import logging
from functools import partial

from contracts.domain import Side
from engine.analytics.markouts import (
    HORIZONS,
    RESOLUTION,
    FillPoint,
    horizon_markouts,
    markout,
    notional,
    resolution_value,
)
from storage.research import markout_queries as q
from storage.sqlite.db import Database

log = logging.getLogger("engine.analytics.markouts")
BATCH = 500  # fills per pass: a backlog is worked off over several passes, never in one long one


class MarkoutJob:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.from_id = 0  # the first fill the last pass left incomplete (0 after a start: scan them all)

    def run(self, now: int) -> int:
        """One pass: fixed horizons, then resolutions; returns how many markouts it wrote."""
        written = self._fixed_horizons(now) + self._resolutions(now)
        with self.db.write() as conn:
            q.drop_failed(conn)
        return written

    def _fixed_horizons(self, now: int) -> int:
        with self.db.read() as conn:
            until = q.recorded_until(conn)
            if until is None:
                return 0
            pending = q.pending_fills(conn, from_id=self.from_id, limit=BATCH)
            rows: list[q.Markout] = []
            left: list[int] = []
            for fill in pending:
                point = _point(fill)
                marks = horizon_markouts(point, partial(q.mid_at, conn, fill.token_id), until, fill.done)
                rows += [q.Markout(fill, name, notional(point), mid, value) for name, (mid, value) in marks.items()]
                if len(fill.done) + len(marks) < len(HORIZONS):
                    left.append(fill.id)  # a horizon still ahead of the history
        if left:
            self.from_id = min(left)
        elif pending:
            self.from_id = pending[-1].id + 1
        return self._write(rows, now)

    def _resolutions(self, now: int) -> int:
        with self.db.read() as conn:
            pending = q.resolved_pending(conn, limit=BATCH)
        rows = []
        for fill, paid in pending:
            point = _point(fill)
            value = resolution_value(paid)
            rows.append(q.Markout(fill, RESOLUTION, notional(point), value, markout(point, value)))
        return self._write(rows, now)

    def _write(self, rows: list[q.Markout], now: int) -> int:
        if not rows:
            return 0
        with self.db.write() as conn:
            return q.write_markouts(conn, rows, now)


def _point(fill: q.PendingFill) -> FillPoint:
    return FillPoint(Side(fill.side), fill.price, fill.size, fill.matched_at)
