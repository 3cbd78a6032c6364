"""The SQL of the up/down windows' pricing (`updown_windows`, engine/venues/polymarket/spot_reference.py): how
each window the desk follows is priced, written when it changes, read by the Markets page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.sqlite.db import Database
from storage.sqlite.sql import run_many


@dataclass(frozen=True)
class WindowPricing:
    condition_id: str
    priced_by: str | None
    price_to_beat: int | None  # micro-USD
    beat_from: str | None


def record(db: Database, rows: Sequence[WindowPricing], now: int) -> None:
    if not rows:
        return
    with db.write() as conn:
        run_many(conn, """INSERT INTO updown_windows (condition_id, priced_by, price_to_beat, beat_from, updated_at)
                          VALUES (?, ?, ?, ?, ?)
                          ON CONFLICT (condition_id) DO UPDATE SET priced_by = excluded.priced_by,
                              price_to_beat = excluded.price_to_beat, beat_from = excluded.beat_from,
                              updated_at = excluded.updated_at""",
                 [(r.condition_id, r.priced_by, r.price_to_beat, r.beat_from, now) for r in rows])
