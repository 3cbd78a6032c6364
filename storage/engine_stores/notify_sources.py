"""What the notifier reads from the desk: alerts past its cursor, trade events (`notify_events`,
written by triggers in the executor's own transaction, see
storage/sqlite/migrations/m0014_notify_channels_and_events.py) with the fill or order each one names,
and the figures of the daily summary.

Each function runs inside the caller's transaction (SQLAlchemy connection). The summary takes
its engine state, per-strategy figures and unacknowledged alerts from storage/desk/desk_status.py, so
the summary and the CLI's `status` agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, text

from storage.dashboard_queries.market_names import name_markets, sqlite_lookup
from storage.desk import desk_status

DAY_MS = 86_400_000


def newest_alert_id(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM alerts")).scalar_one())


def alerts_after(conn: Connection, cursor: int, limit: int) -> list[tuple[Any, ...]]:
    """(id, created_at, level, source, code, message, subject) of the alerts after `cursor`, oldest first."""
    rows = [tuple(row) for row in conn.execute(text("""SELECT id, created_at, level, source, code, message, subject
                                                      FROM alerts WHERE id > :cursor ORDER BY id LIMIT :limit"""),
                                               {"cursor": cursor, "limit": limit})]
    # A person reads these: markets by their question (storage/dashboard_queries/market_names.py).
    named = name_markets([r[5] for r in rows], sqlite_lookup(conn.connection.driver_connection))  # type: ignore[arg-type]  # SQLAlchemy types the DBAPI connection loosely; it is sqlite3's
    return [(*r[:5], message, r[6]) for r, message in zip(rows, named, strict=True)]


def newest_event_id(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM notify_events")).scalar_one())


def events_after(conn: Connection, cursor: int, limit: int) -> list[Row[Any]]:
    """The trade events (id, at, kind, ref) after `cursor`, oldest first."""
    return list(conn.execute(text("SELECT id, at, kind, ref FROM notify_events WHERE id > :c ORDER BY id LIMIT :n"),
                             {"c": cursor, "n": limit}).all())


def fill_with_market(conn: Connection, fill_id: int) -> Row[Any] | None:
    """A fill with its order's client id and its market's question; None once pruned."""
    return conn.execute(text("""SELECT f.id, f.mode, f.venue, f.strategy, f.token_id, f.condition_id, f.outcome,
                                       f.side, f.price, f.size, f.fee, f.liquidity, f.matched_at, o.client_id,
                                       COALESCE(m.question, (SELECT kalshi_title FROM venue_pairs
                                           WHERE 'kalshi:' || kalshi_ticker = f.condition_id)) AS question
                                FROM fills f JOIN orders o ON o.id = f.order_id
                                LEFT JOIN markets m ON m.condition_id = f.condition_id WHERE f.id = :id"""),
                        {"id": fill_id}).first()


def shares_before_fill(conn: Connection, *, mode: str, strategy: str, token_id: str, fill_id: int) -> int:
    """The strategy's net shares of `token_id` from its own fills before `fill_id` (micro-shares)."""
    return int(conn.execute(text("""SELECT COALESCE(SUM(CASE side WHEN 'BUY' THEN size ELSE -size END), 0)
                                    FROM fills WHERE mode = :m AND strategy = :s AND token_id = :t AND id < :id
                                    AND status != 'FAILED'"""),
                            {"m": mode, "s": strategy, "t": token_id, "id": fill_id}).scalar_one())


def order_with_market(conn: Connection, order_id: int) -> Row[Any] | None:
    """An order with its market's question; None once pruned."""
    return conn.execute(text("""SELECT o.mode, o.venue, o.strategy, o.condition_id, o.outcome, o.side, o.price,
                                       o.size, o.filled, o.tif, o.error, o.client_id,
                                       COALESCE(m.question, (SELECT kalshi_title FROM venue_pairs
                                           WHERE 'kalshi:' || kalshi_ticker = o.condition_id)) AS question
                                FROM orders o LEFT JOIN markets m ON m.condition_id = o.condition_id
                                WHERE o.id = :id"""), {"id": order_id}).first()


def summary_data(conn: Connection, db_path: Path, now: int) -> dict[str, Any]:
    """The last 24 hours in the current mode: equity and its change, fills, fees, alerts."""
    raw = conn.connection.driver_connection  # storage.desk.desk_status reads with sqlite3
    status = desk_status.engine_status(raw, db_path, now=now)  # type: ignore[arg-type]  # raw: the sqlite3 connection under SQLAlchemy's
    mode, since = status.mode, now - DAY_MS
    snap = "SELECT equity, realized, fees FROM portfolio_snapshots WHERE mode = :m AND venue = 'polymarket'"
    latest = conn.execute(text(f"{snap} ORDER BY at DESC LIMIT 1"), {"m": mode}).first()
    base = (conn.execute(text(f"{snap} AND at <= :since ORDER BY at DESC LIMIT 1"), {"m": mode, "since": since}).first()
            or conn.execute(text(f"{snap} AND at > :since ORDER BY at LIMIT 1"), {"m": mode, "since": since}).first())
    fills = conn.execute(text("""SELECT COUNT(*), COALESCE(SUM(price * size / 1000000), 0), COALESCE(SUM(fee), 0)
                                 FROM fills WHERE mode = :m AND matched_at >= :since AND status != 'FAILED'"""),
                         {"m": mode, "since": since}).one()
    by_level: dict[str, int] = dict(conn.execute(text("""SELECT level, COUNT(*) FROM alerts
                                                         WHERE created_at >= :since GROUP BY level"""),
                                                 {"since": since}).all())
    codes = conn.execute(text("""SELECT code, COUNT(*) AS n FROM alerts WHERE created_at >= :since
                                 GROUP BY code ORDER BY n DESC, code LIMIT 5"""), {"since": since}).all()
    strategies = desk_status.per_strategy(raw, mode)  # type: ignore[arg-type]  # raw: the sqlite3 connection under SQLAlchemy's
    unacked, _ = desk_status.unacked_alerts(raw, limit=0)  # type: ignore[arg-type]  # raw: the sqlite3 connection under SQLAlchemy's
    micro = desk_status.MICRO

    def change(column: int) -> float | None:
        return None if latest is None or base is None else (latest[column] - base[column]) / micro

    return {
        "mode": mode, "state": status.state, "trading_state": status.trading_state,
        "kill_latched": status.kill_latched,
        "equity": None if latest is None else latest[0] / micro,
        "pnl_24h": change(0), "realized_24h": change(1), "fees_24h": change(2),
        "fills": int(fills[0]), "fill_volume": fills[1] / micro, "fill_fees": fills[2] / micro,
        "open_orders": sum(s["open_orders"] for s in strategies),
        "positions": sum(s["positions"] for s in strategies),
        "alerts_by_level": {str(k): int(v) for k, v in by_level.items()},
        "alert_codes": [(str(code), int(n)) for code, n in codes],
        "unacked_alerts": unacked,
        "strategies": strategies,
    }
