"""The SQL of followed wallets: their public trades as the follower keeps them (`followed_trades`,
each once), the recent ones a copy_trading strategy sees, and what the Strategies page values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from storage.sqlite.db import Database
from storage.sqlite.sql import run_many


@dataclass(frozen=True)
class Followed:
    wallet: str
    label: str
    trade_key: str
    condition_id: str
    token_id: str
    side: str
    price: int
    size: int
    at: int


def add_trades(db: Database, trades: Sequence[Followed], now: int) -> int:
    """Keep the trades not kept yet; how many were new."""
    if not trades:
        return 0
    with db.write() as conn:
        return run_many(conn, """INSERT OR IGNORE INTO followed_trades (wallet, label, trade_key, condition_id,
                              token_id, side, price, size, at, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                 [(t.wallet, t.label, t.trade_key, t.condition_id, t.token_id, t.side, t.price, t.size, t.at, now)
                  for t in trades]).rowcount


def recent(conn: Connection, since: int) -> list[Followed]:
    rows = conn.execute(text("""SELECT wallet, label, trade_key, condition_id, token_id, side, price, size, at
                                FROM followed_trades WHERE at >= :since ORDER BY at, id"""), {"since": since}).all()
    return [Followed(*row) for row in rows]
