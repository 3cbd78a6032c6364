"""The SQL of markouts (engine/analytics/markouts.py defines them): which fills still have a
horizon to compute, the desk's mid at a time (from the recorder's `ticks`), writing results. The
per-strategy, per-market frames the Strategies page draws are in markout_frames.py.

Times are epoch ms, prices micro-units, sizes micro-shares, markouts micro-pUSD (positive: the
fill earned). A FAILED fill (a reversed settlement) has no markout anywhere.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from storage.sqlite.db import Database

MICRO = 1_000_000
FIXED_HORIZONS = ("1s", "10s", "60s")
HORIZONS = (*FIXED_HORIZONS, "resolution")


@dataclass(frozen=True)
class PendingFill:
    id: int
    mode: str
    strategy: str
    condition_id: str
    token_id: str
    side: str
    price: int
    size: int
    matched_at: int
    done: frozenset[str]  # horizons already written


def _pending(row: Any, done: frozenset[str]) -> PendingFill:
    """A fill from a row whose first nine columns are PendingFill's fields, in order."""
    id_, mode, strategy, condition_id, token_id, side, price, size, matched_at = row[:9]
    return PendingFill(id_, mode, strategy, condition_id, token_id, side, price, size, matched_at, done)


@dataclass(frozen=True)
class Markout:
    """One horizon of one fill, as written: the later mid and the markout (None: no mid)."""

    fill: PendingFill
    horizon: str
    notional: int
    mid: int | None
    markout: int | None


def recorded_until(conn: Connection) -> int | None:
    """The time of the last row the recorder wrote (any token, or a decision marker): the mid
    history is complete up to here, since the recorder writes rows in the order it saw them."""
    return conn.execute(text("SELECT MAX(at) FROM ticks")).scalar_one()


def pending_fills(conn: Connection, *, from_id: int, limit: int) -> list[PendingFill]:
    """Fills with id >= `from_id` missing a fixed horizon, in id order (at most `limit`).
    By id, not match time: a fill booked late (a live fill reported after a restart) still has
    a higher id than everything the job has already finished."""
    rows = conn.execute(text(
        """SELECT f.id, f.mode, f.strategy, f.condition_id, f.token_id, f.side, f.price, f.size, f.matched_at,
                  (SELECT GROUP_CONCAT(m.horizon) FROM fill_markouts m WHERE m.fill_id = f.id) AS done
           FROM fills f
           WHERE f.id >= :from_id AND f.status != 'FAILED'
             AND (SELECT COUNT(*) FROM fill_markouts m WHERE m.fill_id = f.id AND m.horizon != 'resolution') < 3
           ORDER BY f.id LIMIT :limit"""),
        {"from_id": from_id, "limit": limit}).all()
    return [_pending(r, frozenset((r[9] or "").split(",")) - {""}) for r in rows]


def mid_at_sql(token: str, at: str) -> str:
    """The desk's mid at a time: the last one recorded at or before it (ix_ticks_token_at), with
    the token and time as parameters or as a correlated subquery's columns (spread capture)."""
    return f"""SELECT mid FROM ticks WHERE token_id = {token} AND at <= {at} AND mid IS NOT NULL
            ORDER BY at DESC, id DESC LIMIT 1"""


# The markout job, the backtest and spread capture all read mids with this one statement.
MID_AT = mid_at_sql(":t", ":at")
HISTORY_PRICE_AT = "SELECT price FROM price_history WHERE token_id = :t AND at <= :at ORDER BY at DESC LIMIT 1"


def mid_at(conn: Connection, token_id: str, at: int) -> int | None:
    """The last mid the desk recorded for `token_id` at or before `at` (None if none)."""
    return conn.execute(text(MID_AT), {"t": token_id, "at": at}).scalar()


class RecordedPrices:
    """Read-only lookups in a desk's database for a backtest that replays it: the recorded mid
    (as `mid_at`), or an imported history price, at a time."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def mid_at(self, token_id: str, at: int) -> int | None:
        row = self.conn.execute(MID_AT, {"t": token_id, "at": at}).fetchone()
        return None if row is None else row[0]

    def history_price_at(self, token_id: str, at: int) -> int | None:
        row = self.conn.execute(HISTORY_PRICE_AT, {"t": token_id, "at": at}).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self.conn.close()


def resolved_pending(conn: Connection, *, limit: int) -> list[tuple[PendingFill, int]]:
    """Fills in resolved markets without a resolution markout, each with what a share of its
    outcome paid (micro-pUSD: 1 or 0, 0.5 in a 50/50)."""
    rows = conn.execute(text(
        """SELECT f.id, f.mode, f.strategy, f.condition_id, f.token_id, f.side, f.price, f.size, f.matched_at,
                  CASE f.outcome WHEN 'YES' THEN mk.payout_yes ELSE mk.payout_no END AS paid
           FROM markets mk JOIN fills f ON f.condition_id = mk.condition_id AND f.mode IN ('paper', 'live')
           WHERE mk.payout_yes IS NOT NULL AND mk.payout_no IS NOT NULL AND f.status != 'FAILED'
             AND NOT EXISTS (SELECT 1 FROM fill_markouts m WHERE m.fill_id = f.id AND m.horizon = 'resolution')
           ORDER BY f.id LIMIT :limit"""), {"limit": limit}).all()
    return [(_pending(r, frozenset()), int(r[9])) for r in rows]


def write_markouts(conn: Connection, rows: Iterable[Markout], now: int) -> int:
    """Writes each horizon's row; one already written is kept (final)."""
    params = [{"f": r.fill.id, "h": r.horizon, "mode": r.fill.mode, "s": r.fill.strategy, "c": r.fill.condition_id,
               "n": r.notional, "mid": r.mid, "mk": r.markout, "now": now} for r in rows]
    if not params:
        return 0
    conn.execute(text("""INSERT OR IGNORE INTO fill_markouts (fill_id, horizon, mode, strategy, condition_id, notional,
                                                            mid, markout, computed_at)
                         VALUES (:f, :h, :mode, :s, :c, :n, :mid, :mk, :now)"""), params)
    return len(params)


def drop_failed(conn: Connection) -> int:
    """A fill reversed (FAILED) after its markouts were written has none: its rows go."""
    return conn.execute(text("""DELETE FROM fill_markouts WHERE fill_id IN
                                (SELECT id FROM fills WHERE status = 'FAILED')""")).rowcount


def fill_markouts(db: Database, fill_id: int) -> dict[str, tuple[int | None, int | None]]:
    """horizon -> (later mid, markout) written for one fill."""
    with db.read() as conn:
        rows = conn.execute(text("SELECT horizon, mid, markout FROM fill_markouts WHERE fill_id = :f"),
                            {"f": fill_id}).all()
    return {r[0]: (r[1], r[2]) for r in rows}


@dataclass(frozen=True)
class RecentMarkout:
    """A fixed-horizon markout the job wrote, with what a strategy reads of its fill (token space)."""

    strategy: str
    condition_id: str
    outcome: str
    side: str
    price: int
    size: int
    matched_at: int
    horizon: str
    mid: int


def recent_markouts(db: Database, mode: str, since: int) -> list[RecentMarkout]:
    """The fixed-horizon markouts of `mode`'s fills matched since `since`, oldest first (a strategy's
    toxicity after a restart: engine/trading/hosting/own_markouts.py)."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT f.strategy, f.condition_id, f.outcome, f.side, f.price, f.size,
                                           f.matched_at, m.horizon, m.mid
                                    FROM fills f JOIN fill_markouts m ON m.fill_id = f.id
                                    WHERE f.mode = :mode AND f.matched_at >= :since AND m.mid IS NOT NULL
                                      AND m.horizon IN ('1s', '10s', '60s') AND f.status != 'FAILED'
                                    ORDER BY f.matched_at, f.id"""), {"mode": mode, "since": since}).all()
    return [RecentMarkout(*row) for row in rows]
