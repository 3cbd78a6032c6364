"""The SQL of markouts (engine/analytics/markouts.py defines them): which fills still have a
horizon to compute, the desk's mid at a time (from the recorder's `ticks`), writing results,
and the per-strategy, per-market aggregates the Strategies page draws.

Times are epoch ms, prices micro-units, sizes micro-shares, markouts micro-USDC (positive: the
fill earned). A FAILED fill (a reversed settlement) has no markout anywhere.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from storage.db import Database

MICRO = 1_000_000
FIXED_HORIZONS = ("1s", "10s", "60s")
HORIZONS = (*FIXED_HORIZONS, "resolution")


@dataclass(frozen=True)
class PendingFill:
    id: int
    token_id: str
    side: str
    price: int
    size: int
    matched_at: int
    done: frozenset[str]  # horizons already written


def recorded_until(conn: Connection) -> int | None:
    """The time of the last row the recorder wrote (any token, or a decision marker): the mid
    history is complete up to here, since the recorder writes rows in the order it saw them."""
    return conn.execute(text("SELECT MAX(at) FROM ticks")).scalar_one()


def pending_fills(conn: Connection, *, from_id: int, limit: int) -> list[PendingFill]:
    """Fills with id >= `from_id` missing a fixed horizon, in id order (at most `limit`).
    By id, not match time: a fill booked late (a live fill reported after a restart) still has
    a higher id than everything the job has already finished."""
    rows = conn.execute(text(
        """SELECT f.id, f.token_id, f.side, f.price, f.size, f.matched_at,
                  (SELECT GROUP_CONCAT(m.horizon) FROM fill_markouts m WHERE m.fill_id = f.id) AS done
           FROM fills f
           WHERE f.id >= :from_id AND f.status != 'FAILED'
             AND (SELECT COUNT(*) FROM fill_markouts m WHERE m.fill_id = f.id AND m.horizon != 'resolution') < 3
           ORDER BY f.id LIMIT :limit"""),
        {"from_id": from_id, "limit": limit}).all()
    return [PendingFill(r[0], r[1], r[2], r[3], r[4], r[5], frozenset((r[6] or "").split(",")) - {""})
            for r in rows]


# The desk's mid at a time: the last one recorded at or before it (ix_ticks_token_at). The
# markout job and the backtest both read mids with this one statement.
MID_AT = """SELECT mid FROM ticks WHERE token_id = :t AND at <= :at AND mid IS NOT NULL
            ORDER BY at DESC, id DESC LIMIT 1"""
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


def resolved_pending(conn: Connection, *, limit: int) -> list[dict[str, Any]]:
    """Fills in resolved markets without a resolution markout: id, side, price, size,
    matched_at and whether the fill's outcome won."""
    rows = conn.execute(text(
        """SELECT f.id, f.side, f.price, f.size, f.matched_at, f.outcome = mk.resolved_outcome AS won
           FROM markets mk JOIN fills f ON f.condition_id = mk.condition_id AND f.mode IN ('paper', 'live')
           WHERE mk.resolved_outcome IS NOT NULL AND f.status != 'FAILED'
             AND NOT EXISTS (SELECT 1 FROM fill_markouts m WHERE m.fill_id = f.id AND m.horizon = 'resolution')
           ORDER BY f.id LIMIT :limit"""), {"limit": limit}).mappings().all()
    return [dict(r) for r in rows]


def write_markouts(conn: Connection, rows: Iterable[tuple[int, str, int | None, int | None]], now: int) -> int:
    """(fill id, horizon, later mid, markout) rows; a horizon already written is kept (final)."""
    params = [{"f": f, "h": h, "mid": mid, "mk": mk, "now": now} for f, h, mid, mk in rows]
    if not params:
        return 0
    conn.execute(text("""INSERT OR IGNORE INTO fill_markouts (fill_id, horizon, mid, markout, computed_at)
                         VALUES (:f, :h, :mid, :mk, :now)"""), params)
    return len(params)


def fill_markouts(db: Database, fill_id: int) -> dict[str, tuple[int | None, int | None]]:
    """horizon -> (later mid, markout) written for one fill."""
    with db.read() as conn:
        rows = conn.execute(text("SELECT horizon, mid, markout FROM fill_markouts WHERE fill_id = :f"),
                            {"f": fill_id}).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def markout_table(db: Database, mode: str, strategies: Sequence[str] | None = None, *,
                  by_market: bool = True) -> pd.DataFrame:
    """Per strategy and market (per strategy alone when `by_market` is False: the market
    columns read "—"): fills, notional (USDC), and at each horizon the markout summed in USDC
    and in bps of the notional of the fills that have it (NaN where none has), plus
    `fills_<h>` (how many fills count there). Positive: the fills earned against the later mid;
    negative: adverse selection."""
    marks = ""
    params: dict[str, Any] = {"m": mode}
    if strategies is not None:
        names = {f"s{i}": name for i, name in enumerate(strategies)}
        marks = f" AND f.strategy IN ({', '.join(':' + k for k in names) or 'NULL'})"
        params.update(names)
    per_horizon = ", ".join(
        f"""SUM(CASE WHEN m.horizon = '{h}' THEN m.markout END) AS mk_{h},
            SUM(CASE WHEN m.horizon = '{h}' AND m.markout IS NOT NULL THEN f.price * f.size / {MICRO} END) AS nt_{h},
            COUNT(CASE WHEN m.horizon = '{h}' AND m.markout IS NOT NULL THEN 1 END) AS n_{h}""" for h in HORIZONS)
    group = "f.strategy, f.condition_id" if by_market else "f.strategy"
    cid, question = ("f.condition_id", "COALESCE(mk.question, f.condition_id)") if by_market else ("'—'", "'—'")
    with db.read() as conn:
        rows = conn.execute(text(
            f"""SELECT f.strategy, {cid} AS condition_id, {question} AS market,
                       COUNT(DISTINCT f.id) AS fills, {per_horizon}
                FROM fills f LEFT JOIN fill_markouts m ON m.fill_id = f.id
                LEFT JOIN markets mk ON mk.condition_id = f.condition_id
                WHERE f.mode = :m AND f.status != 'FAILED'{marks}
                GROUP BY {group} ORDER BY f.strategy, market"""), params).mappings().all()
        notional = {(r[0], r[1]): r[2] for r in conn.execute(text(
            f"""SELECT f.strategy, {cid}, SUM(price * size / {MICRO}) FROM fills f
                WHERE mode = :m AND status != 'FAILED'{marks} GROUP BY {group}"""), params).all()}
    out = []
    for r in rows:
        row: dict[str, Any] = {"strategy": r["strategy"], "condition_id": r["condition_id"], "market": r["market"],
                               "fills": r["fills"], "notional": notional.get((r["strategy"], r["condition_id"]), 0) / MICRO}
        for h in HORIZONS:
            counted = r[f"n_{h}"]
            row[f"usdc_{h}"] = r[f"mk_{h}"] / MICRO if counted else float("nan")
            row[f"bps_{h}"] = r[f"mk_{h}"] * 10_000 / r[f"nt_{h}"] if counted and r[f"nt_{h}"] else float("nan")
            row[f"fills_{h}"] = counted
        out.append(row)
    columns = ["strategy", "condition_id", "market", "fills", "notional",
               *(f"{kind}_{h}" for h in HORIZONS for kind in ("usdc", "bps", "fills"))]
    return pd.DataFrame(out, columns=columns)
