"""The paper venue's own book in SQL: its orders (`paper_orders`, resting ones with their queue
positions) and its trades (`paper_trades`, MATCHED -> MINED -> CONFIRMED or FAILED).

Only the paper venue calls these (engine/venues/paper.py, paper_settlement.py), each on the
connection of a transaction it opened, so a fill's trade and its order's new state stay one
transaction. They run once per order and per fill, millions of times in a backtest: they
speak to sqlite3 straight on the transaction's connection (storage/sqlite/sql.py) and hand back
rows as stored (`sqlite3.Row`, by position or column name); the venue makes its own types.

A paper venue stands in for one venue (Polymarket's, Kalshi's): each row carries the venue its
token belongs to, and what one paper venue loads or sums is its venue's rows only.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import Connection, Row, text

from contracts.venues import venue_of
from storage.sqlite import write_behind
from storage.sqlite.sql import run, scalar

# -- orders ----------------------------------------------------------------------------------------


def live_orders(conn: Connection, venue: str) -> list[sqlite3.Row]:
    """Every order resting on the venue's paper book."""
    return run(conn, "SELECT * FROM paper_orders WHERE status = 'LIVE' AND venue = :venue",
               {"venue": venue}).fetchall()


def order_row(conn: Connection, venue_order_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = run(conn, "SELECT * FROM paper_orders WHERE venue_order_id = :v",
                                  {"v": venue_order_id}).fetchone()
    return row


def order_exists(conn: Connection, venue_order_id: str) -> bool:
    held = write_behind.of(conn)
    if held is not None:  # held, or written before (a plain read: nothing held changes the answer)
        return held.paper_order_held(venue_order_id) or held.raw.execute(
            "SELECT 1 FROM paper_orders WHERE venue_order_id = ?", (venue_order_id,)).fetchone() is not None
    return bool(scalar(conn, "SELECT 1 FROM paper_orders WHERE venue_order_id = :v", {"v": venue_order_id}))


def save_order(conn: Connection, *, venue_order_id: str, token_id: str, condition_id: str, side: str,
               price: int, size: int, filled: int, queue_ahead: int, tif: str, status: str, created_at: int,
               now: int, expires_at: int | None) -> None:
    """Insert an order, or move a known one's fill, queue position and status."""
    held = write_behind.of(conn)  # a replay's batch: kept in memory, written at its end
    if held is not None:
        held.save_paper_order((venue_order_id, token_id, condition_id, side, price, size, filled, queue_ahead, tif,
                               status, created_at, now, expires_at, venue_of(token_id)))
        return
    run(
        conn, """INSERT INTO paper_orders (venue_order_id, token_id, condition_id, side, price, size,
                    filled, queue_ahead, tif, status, created_at, updated_at, expires_at, venue)
                VALUES (:v, :token, :cid, :side, :price, :size, :filled, :queue, :tif, :status, :created,
                    :now, :expires, :venue)
                ON CONFLICT (venue_order_id) DO UPDATE SET filled = excluded.filled,
                    queue_ahead = excluded.queue_ahead, status = excluded.status,
                    updated_at = excluded.updated_at""",
        {"v": venue_order_id, "token": token_id, "cid": condition_id, "side": side, "price": price,
         "size": size, "filled": filled, "queue": queue_ahead, "tif": tif, "status": status,
         "created": created_at, "now": now, "expires": expires_at, "venue": venue_of(token_id)},
    )


def promised_sells(conn: Connection, token_id: str) -> int:
    """Shares of a token that resting SELL orders still offer."""
    return int(scalar(conn, """SELECT COALESCE(SUM(size - filled), 0) FROM paper_orders WHERE token_id = :t
                               AND side = 'SELL' AND status = 'LIVE'""", {"t": token_id}))


# -- trades ----------------------------------------------------------------------------------------


def trade_count(conn: Connection, venue_order_id: str) -> int:
    """How many trades an order has had (its next trade's sequence number, less one)."""
    held = write_behind.of(conn)
    if held is not None:
        return held.trade_count(venue_order_id)
    return int(scalar(conn, "SELECT COUNT(*) FROM paper_trades WHERE venue_order_id = :v",
                      {"v": venue_order_id}))


def order_fills(conn: Connection, venue_order_id: str) -> list[sqlite3.Row]:
    """An order's trades, oldest first: (side, price, size, liquidity, matched_at)."""
    return run(conn, """SELECT side, price, size, liquidity, matched_at FROM paper_trades WHERE venue_order_id = :v
                        ORDER BY matched_at, trade_id""", {"v": venue_order_id}).fetchall()


def insert_trade(conn: Connection, *, trade_id: str, venue_order_id: str, token_id: str, side: str,
                 price: int, size: int, fee: int, liquidity: str, now: int, settle_at: int) -> None:
    """A new MATCHED trade, due to move on at `settle_at`."""
    held = write_behind.of(conn)
    if held is not None:
        held.insert_paper_trade([trade_id, venue_order_id, token_id, side, price, size, fee, liquidity, "MATCHED", now,
                                 settle_at, now, venue_of(token_id)])
        return
    run(
        conn, """INSERT INTO paper_trades (trade_id, venue_order_id, token_id, side, price, size, fee,
                    liquidity, status, matched_at, settle_at, updated_at, venue)
                VALUES (:t, :v, :token, :side, :price, :size, :fee, :liq, 'MATCHED', :now, :settle, :now, :venue)""",
        {"t": trade_id, "v": venue_order_id, "token": token_id, "side": side, "price": price, "size": size,
         "fee": fee, "liq": liquidity, "now": now, "settle": settle_at, "venue": venue_of(token_id)},
    )


def due_trades(conn: Connection, now: int, venue: str) -> list[sqlite3.Row]:
    """The venue's trades not yet final whose next step is due by `now`."""
    return run(conn, """SELECT * FROM paper_trades WHERE status IN ('MATCHED', 'MINED')
                        AND settle_at <= :now AND venue = :venue""", {"now": now, "venue": venue}).fetchall()


def set_trade_status(conn: Connection, trade_id: str, status: str, settle_at: int, now: int) -> None:
    run(conn, """UPDATE paper_trades SET status = :s, settle_at = :settle, updated_at = :now
                 WHERE trade_id = :t""",
        {"s": status, "settle": settle_at, "now": now, "t": trade_id})


def next_settlement(conn: Connection, venue: str) -> int | None:
    """When the venue's earliest trade not yet final is due to move on (None: none is)."""
    due: int | None = scalar(conn, "SELECT MIN(settle_at) FROM paper_trades "
                                   "WHERE status IN ('MATCHED', 'MINED') AND venue = :venue", {"venue": venue})
    return due


def trades_since(conn: Connection, after_ms: int, venue: str) -> list[sqlite3.Row]:
    """Every trade of the venue matched at or after `after_ms`, oldest first."""
    return run(conn, "SELECT * FROM paper_trades WHERE matched_at >= :after AND venue = :venue ORDER BY matched_at",
               {"after": after_ms, "venue": venue}).fetchall()


def held_by_token(conn: Connection, venue: str) -> list[sqlite3.Row]:
    """(token, shares) the trades not FAILED moved into the venue's paper wallet, per token."""
    return run(conn, """SELECT token_id, SUM(CASE side WHEN 'BUY' THEN size ELSE -size END) FROM paper_trades
                        WHERE status != 'FAILED' AND venue = :venue GROUP BY token_id""",
               {"venue": venue}).fetchall()


def traded(conn: Connection, token_id: str) -> int:
    """Shares of one token the trades not FAILED moved into the paper wallet."""
    return int(scalar(conn, """SELECT COALESCE(SUM(CASE WHEN side = 'BUY' THEN size ELSE -size END), 0)
                               FROM paper_trades WHERE token_id = :t AND status != 'FAILED'""",
                      {"t": token_id}))


def trade_amounts(conn: Connection, venue: str) -> list[Row]:
    """(token, side, price, size, fee) of the venue's trades not FAILED: what moved cash and shares."""
    return list(conn.execute(text("""SELECT token_id, side, price, size, fee FROM paper_trades
                                     WHERE status != 'FAILED' AND venue = :venue"""), {"venue": venue}).all())


def maker_fills(conn: Connection, after_ms: int, before_ms: int) -> list[sqlite3.Row]:
    """(token, price, size, matched at) of the maker trades not FAILED matched in [after_ms, before_ms)."""
    return run(conn, """SELECT token_id, price, size, matched_at FROM paper_trades WHERE liquidity = 'MAKER'
                        AND status != 'FAILED' AND matched_at >= :after AND matched_at < :before
                        ORDER BY matched_at""", {"after": after_ms, "before": before_ms}).fetchall()
