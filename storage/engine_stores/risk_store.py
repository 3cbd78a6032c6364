"""The risk layer's own tables in SQL: the `decisions` log (why the gate trimmed or refused a
quote, and strategies' regime notes), the `forecasts` strategies state, and `strategy_risk` (each
strategy's breaker memory).

Written only by the engine's risk monitor (engine/risk/decisions_log.py, strategy_risk.py),
on the connection of a transaction it opened. The decisions are written every few ticks:
straight to sqlite3 in one executemany (storage/sqlite/sql.py), which SQLAlchemy cost more.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from storage.sqlite.sql import run_beside, run_many

# (at, mode, strategy, condition_id, side, price, requested, approved, action, reason, detail)
DecisionRow = tuple[int, str, str, str, str, int, int, int, str, str, str | None]
# (at, mode, strategy, condition_id, reason, detail): a strategy's change of regime in a market
NoteRow = tuple[int, str, str, str, str, str]
# (at, mode, strategy, condition_id, probability): a strategy's stated probability of YES
ForecastRow = tuple[int, str, str, str, int]
# (strategy, trading_state, reason, peak_equity, day_start_pnl, day_started_at)
StrategyRiskRow = tuple[str, str, str | None, int | None, int | None, int | None]


def add_decisions(conn: Connection, rows: Iterable[DecisionRow]) -> None:
    run_many(conn, """INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested, approved,
                          action, reason, detail)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows)


def add_notes(conn: Connection, rows: Iterable[NoteRow]) -> None:
    """Notes sit in the decisions log as action 'note', with no side, price or size."""
    run_many(conn, """INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested, approved,
                          action, reason, detail) VALUES (?, ?, ?, ?, '', 0, 0, 0, 'note', ?, ?)""", rows)


def add_forecasts(conn: Connection, rows: Iterable[ForecastRow]) -> None:
    run_many(conn, "INSERT INTO forecasts (at, mode, strategy, condition_id, probability) VALUES (?, ?, ?, ?, ?)",
             rows)


def prune_forecasts(conn: Connection, *, keep: int) -> int:
    """All but the newest `keep` forecasts go (they are kept past the decisions' retention: a
    market can resolve months after the forecast that is scored against it)."""
    return int(conn.execute(text("DELETE FROM forecasts WHERE id <= (SELECT MAX(id) FROM forecasts) - :keep"),
                            {"keep": keep}).rowcount)


def prune_decisions(conn: Connection, *, before: int, keep: int) -> int:
    """Delete decisions older than `before` (epoch ms), then all but the newest `keep`; how many went."""
    removed = conn.execute(text("DELETE FROM decisions WHERE at < :cut"), {"cut": before}).rowcount
    removed += conn.execute(text("""DELETE FROM decisions WHERE id <= (SELECT MAX(id) FROM decisions) - :keep"""),
                            {"keep": keep}).rowcount
    return int(removed)


def strategy_risk_rows(conn: Connection, mode: str) -> list[StrategyRiskRow]:
    rows = conn.execute(text("""SELECT strategy, trading_state, reason, peak_equity, day_start_pnl, day_started_at
                                FROM strategy_risk WHERE mode = :m"""), {"m": mode}).all()
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def save_strategy_risk(conn: Connection, *, mode: str, strategy: str, trading_state: str, reason: str | None,
                       peak_equity: int | None, day_start_pnl: int | None, day_started_at: int | None,
                       now: int) -> None:
    """A strategy's breaker memory; `state_at` moves only when its trading state changes. Straight to
    sqlite3 (storage/sqlite/sql.py): a market maker's every new peak writes it, most of a replay's passes that
    write anything."""
    run_beside(conn, """INSERT INTO strategy_risk (mode, strategy, trading_state, reason, state_at,
                             peak_equity, day_start_pnl, day_started_at, updated_at)
                         VALUES (:mode, :s, :state, :reason, :now, :peak, :day, :day_at, :now)
                         ON CONFLICT (mode, strategy) DO UPDATE SET trading_state = excluded.trading_state,
                             reason = excluded.reason, state_at = CASE WHEN excluded.trading_state
                             != strategy_risk.trading_state THEN excluded.state_at ELSE
                             strategy_risk.state_at END, peak_equity = excluded.peak_equity,
                             day_start_pnl = excluded.day_start_pnl,
                             day_started_at = excluded.day_started_at, updated_at = excluded.updated_at""",
               {"mode": mode, "s": strategy, "state": trading_state, "reason": reason, "now": now,
                "peak": peak_equity, "day": day_start_pnl, "day_at": day_started_at})
