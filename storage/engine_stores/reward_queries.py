"""Liquidity rewards in the database: the venue's programs, each resting order's scoring, and the
estimated and paid rewards per market, strategy and UTC day (tables of migration 0021).

The engine writes (engine/trading/settlement/rewards.py); the Strategies page and the paper venue read (the
page's per-day frame is storage/dashboard_queries/strategy_queries.strategy_rewards: pandas stays
out of the engine's imports).
Amounts are micro-pUSD; a day is 'YYYY-MM-DD' (UTC); `share` is the strategy's summed share of
the market's samples in parts of 10^12 (contracts/reward_scoring.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from storage.sqlite.db import Database

MICRO = 1_000_000
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class ProgramRow:
    condition_id: str
    daily_pool: int
    max_spread: int  # micro-pUSD of price
    min_size: int  # micro-shares


@dataclass(frozen=True, slots=True)
class RestingOrder:
    id: int
    venue_order_id: str | None
    strategy: str
    condition_id: str
    token_id: str
    outcome: str
    side: str
    price: int
    remaining: int


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def day_end_ms(day: str) -> int:
    return (date.fromisoformat(day).toordinal() - date(1970, 1, 1).toordinal() + 1) * DAY_MS


def save_programs(db: Database, programs: Iterable[ProgramRow], now: int) -> int:
    """Replace the stored programs with the venue's current list; returns how many."""
    rows = [{"cid": p.condition_id, "pool": p.daily_pool, "spread": p.max_spread, "size": p.min_size, "now": now}
            for p in programs]
    with db.write() as conn:
        conn.execute(text("DELETE FROM reward_programs"))
        if rows:
            conn.execute(text("""INSERT INTO reward_programs (condition_id, daily_pool, max_spread, min_size,
                                                              updated_at)
                                 VALUES (:cid, :pool, :spread, :size, :now)"""), rows)
    return len(rows)


def programs(db: Database) -> dict[str, ProgramRow]:
    with db.read_own() as conn:
        rows = conn.execute(text("SELECT condition_id, daily_pool, max_spread, min_size FROM reward_programs")).all()
    return {r[0]: ProgramRow(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows}


def resting_orders(db: Database, mode: str, condition_ids: Iterable[str]) -> list[RestingOrder]:
    """The desk's orders resting on the book (acknowledged, LIVE, not all filled) in these markets."""
    ids = list(condition_ids)
    if not ids:
        return []
    marks = ", ".join(f":c{i}" for i in range(len(ids)))
    params: dict[str, Any] = {"m": mode, **{f"c{i}": cid for i, cid in enumerate(ids)}}
    with db.read_own() as conn:
        rows = conn.execute(text(f"""SELECT id, venue_order_id, strategy, condition_id, token_id, outcome, side,
                                            price, size - filled AS remaining FROM orders
                                     WHERE mode = :m AND status = 'LIVE' AND size > filled
                                       AND condition_id IN ({marks}) ORDER BY id"""), params).all()
    return [RestingOrder(*row) for row in rows]


def record_sample(db: Database, mode: str, now: int, scores: Iterable[tuple[int, str, str, bool]],
                  shares: Mapping[tuple[str, str], tuple[int, int]], samples_per_day: int) -> None:
    """One scoring sample: each order's (id, strategy, market, scoring) and, per (market,
    strategy), (share of the sample in parts of 10^12, the market's daily pool)."""
    day = day_of(now)
    with db.write() as conn:
        for order_id, strategy, cid, scoring in scores:
            conn.execute(text("""INSERT INTO reward_scores (mode, order_id, strategy, condition_id, samples,
                                     scoring_samples, scoring, checked_at)
                                 VALUES (:m, :o, :s, :c, 1, :hit, :hit, :now)
                                 ON CONFLICT (mode, order_id) DO UPDATE SET samples = samples + 1,
                                     scoring_samples = scoring_samples + :hit, scoring = :hit, checked_at = :now"""),
                         {"m": mode, "o": order_id, "s": strategy, "c": cid, "hit": int(scoring), "now": now})
        for (cid, strategy), (share, pool) in shares.items():
            _add_share(conn, mode, day, cid, strategy, share, pool, samples_per_day, now)


def _add_share(conn: Connection, mode: str, day: str, cid: str, strategy: str, share: int, pool: int,
               samples_per_day: int, now: int) -> None:
    """Add a sample's share; the estimate is the pool times the day's summed share over a full
    day of samples (the venue's Q_final when every sample's shares add up to one)."""
    conn.execute(text("""INSERT INTO reward_days (mode, day, condition_id, strategy, samples, share, estimated,
                             updated_at) VALUES (:m, :d, :c, :s, 1, :share, 0, :now)
                         ON CONFLICT (mode, day, condition_id, strategy) DO UPDATE SET samples = samples + 1,
                             share = share + :share, updated_at = :now"""),
                 {"m": mode, "d": day, "c": cid, "s": strategy, "share": share, "now": now})
    key = {"m": mode, "d": day, "c": cid, "s": strategy}
    where = "WHERE mode = :m AND day = :d AND condition_id = :c AND strategy = :s"
    total = int(conn.execute(text(f"SELECT share FROM reward_days {where}"), key).scalar() or 0)
    # In Python: pool x share overflows SQLite's 64-bit integers.
    conn.execute(text(f"UPDATE reward_days SET estimated = :e {where}"),
                 {**key, "e": pool * total // (10**12 * samples_per_day)})


def estimated_total(db: Database, mode: str) -> int:
    """Every estimated reward of `mode` (a backtest's scratch ledger: the run's), micro-pUSD."""
    with db.read_own() as conn:
        return int(conn.execute(text("SELECT COALESCE(SUM(estimated), 0) FROM reward_days WHERE mode = :m"),
                                {"m": mode}).scalar() or 0)


def programs_in_file(path: Path, condition_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The reward programs of these markets in another desk's database file, read-only (a
    backtest copies its main database's into its scratch one)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        marks = ",".join("?" * len(condition_ids))
        rows = conn.execute(f"SELECT * FROM reward_programs WHERE condition_id IN ({marks})", tuple(condition_ids))
        return [dict(r) for r in rows.fetchall()]
    finally:
        conn.close()


def copy_programs(db: Database, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write program rows (a backtest's scratch database takes the main one's)."""
    with db.write() as conn:
        for row in rows:
            conn.execute(text("""INSERT INTO reward_programs (condition_id, daily_pool, max_spread, min_size,
                                 updated_at)
                                 VALUES (:condition_id, :daily_pool, :max_spread, :min_size, :updated_at)"""),
                         dict(row))


def record_venue_scoring(db: Database, mode: str, answers: Mapping[int, bool]) -> None:
    """The venue's own answer (live: are_orders_scoring) for each order id."""
    with db.write() as conn:
        for order_id, scoring in answers.items():
            conn.execute(text("UPDATE reward_scores SET venue_scoring = :v WHERE mode = :m AND order_id = :o"),
                         {"v": int(scoring), "m": mode, "o": order_id})


def unpaid_days(db: Database, mode: str, before_day: str) -> list[str]:
    """Days before `before_day` with rewards estimated and nothing recorded as paid yet."""
    with db.read_own() as conn:
        rows = conn.execute(text("""SELECT DISTINCT day FROM reward_days WHERE mode = :m AND day < :d
                                    AND paid IS NULL ORDER BY day"""), {"m": mode, "d": before_day}).all()
    return [r[0] for r in rows]


def day_estimates(db: Database, mode: str, day: str) -> dict[tuple[str, str], int]:
    with db.read_own() as conn:
        rows = conn.execute(text("""SELECT condition_id, strategy, estimated FROM reward_days
                                    WHERE mode = :m AND day = :d"""), {"m": mode, "d": day}).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def record_paid(db: Database, mode: str, day: str, paid: Mapping[tuple[str, str], int], now: int) -> None:
    """What the venue paid for `day` per (market, strategy); rows not named were paid nothing."""
    with db.write() as conn:
        conn.execute(text("UPDATE reward_days SET paid = 0, updated_at = :now WHERE mode = :m AND day = :d"),
                     {"m": mode, "d": day, "now": now})
        for (cid, strategy), amount in paid.items():
            conn.execute(text("""INSERT INTO reward_days (mode, day, condition_id, strategy, paid, updated_at)
                                 VALUES (:m, :d, :c, :s, :p, :now)
                                 ON CONFLICT (mode, day, condition_id, strategy) DO UPDATE SET paid = :p,
                                     updated_at = :now"""),
                         {"m": mode, "d": day, "c": cid, "s": strategy, "p": amount, "now": now})


def paid_by_day(conn: Connection, mode: str, before_ms: int) -> list[tuple[str, int]]:
    """(day, paid) of the days that ended by `before_ms` and were paid something, oldest first."""
    rows = conn.execute(text("""SELECT day, SUM(paid) FROM reward_days WHERE mode = :m AND paid > 0
                                GROUP BY day ORDER BY day"""), {"m": mode}).all()
    return [(r[0], int(r[1])) for r in rows if day_end_ms(r[0]) <= before_ms]


def strategy_scoring(db: Database, mode: str, strategy: str) -> dict[str, Any]:
    """How the strategy's resting orders scored: orders seen, scoring now, share of samples scored,
    and (live) how many the venue itself says are scoring."""
    with db.read() as conn:
        row = conn.execute(text("""SELECT COUNT(*) AS orders, COALESCE(SUM(scoring), 0) AS scoring_now,
                                          COALESCE(SUM(samples), 0) AS samples,
                                          COALESCE(SUM(scoring_samples), 0) AS scored,
                                          COALESCE(SUM(venue_scoring), 0) AS venue_scoring,
                                          COUNT(venue_scoring) AS venue_checked
                                   FROM reward_scores WHERE mode = :m AND strategy = :s"""),
                           {"m": mode, "s": strategy}).mappings().first()
    return dict(row) if row else {}


def strategy_rebates(db: Database, mode: str, strategy: str) -> float:
    """Maker rebates attributed to the strategy: the desk's rebates (cash) split by its share of
    the fee-equivalent of the desk's maker fills (pUSD). The venue pays rebates to the wallet,
    not per strategy, so this is an attribution."""
    with db.read() as conn:
        total = conn.execute(text("SELECT COALESCE(SUM(amount), 0) FROM cash_ledger WHERE mode = :m "
                                  "AND kind = 'rebate'"), {"m": mode}).scalar() or 0
        shares = conn.execute(text("""SELECT COALESCE(SUM(CASE WHEN strategy = :s THEN size END), 0),
                                             COALESCE(SUM(size), 0) FROM fills
                                      WHERE mode = :m AND liquidity = 'MAKER' AND status != 'FAILED'"""),
                              {"m": mode, "s": strategy}).first()
    mine, everyone = (int(shares[0]), int(shares[1])) if shares else (0, 0)
    return round(int(total) * mine / everyone / MICRO, 6) if everyone else 0.0
