"""The SQL of followed wallets: their public trades as the follower keeps them (`followed_trades`,
each once, with the source that kept it first), the recent ones a copy_trading strategy sees, each
wallet's cursor (`follow_cursors`: since when it is followed, how far the Data API has been read),
and the wallet finder's scores (`wallet_scores`)."""

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
    reported_at: int | None = None  # ms, when the venue's stream reported it (None: the Data API's)


def add_trades(db: Database, trades: Sequence[Followed], now: int, source: str = "data_api") -> int:
    """Keep the trades not kept yet; how many were new."""
    if not trades:
        return 0
    with db.write() as conn:
        return run_many(conn, """INSERT OR IGNORE INTO followed_trades (wallet, label, trade_key, condition_id,
                              token_id, side, price, size, at, seen_at, reported_at, source)
                              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                 [(t.wallet, t.label, t.trade_key, t.condition_id, t.token_id, t.side, t.price, t.size, t.at, now,
                   t.reported_at, source) for t in trades]).rowcount


@dataclass(frozen=True)
class Cursor:
    since_ms: int  # when the desk began following the wallet: what it did before is history
    reconciled_s: int | None  # the newest trade time (s) the Data API has listed since


def follow(db: Database, wallets: Sequence[str], now: int) -> dict[str, Cursor]:
    """Each wallet's cursor, a new one (followed from `now`) for a wallet without; the cursors of
    wallets no longer followed are dropped (following one again starts afresh)."""
    with db.write() as conn:
        known = {w: Cursor(s, r) for w, s, r in conn.execute(text(
            "SELECT wallet, since_ms, reconciled_s FROM follow_cursors")).all()}
        for gone in set(known) - set(wallets):
            conn.execute(text("DELETE FROM follow_cursors WHERE wallet = :w"), {"w": gone})
            del known[gone]
        for wallet in set(wallets) - set(known):
            conn.execute(text("INSERT INTO follow_cursors (wallet, since_ms, updated_at) VALUES (:w, :t, :t)"),
                         {"w": wallet, "t": now})
            known[wallet] = Cursor(now, None)
    return known


def reconciled(db: Database, wallet: str, newest_s: int, now: int) -> None:
    with db.write() as conn:
        conn.execute(text("""UPDATE follow_cursors SET reconciled_s = MAX(COALESCE(reconciled_s, 0), :s),
                             updated_at = :t WHERE wallet = :w"""), {"w": wallet, "s": newest_s, "t": now})


def recent(conn: Connection, since: int) -> list[Followed]:
    rows = conn.execute(text("""SELECT wallet, label, trade_key, condition_id, token_id, side, price, size, at
                                FROM followed_trades WHERE at >= :since ORDER BY at, id"""), {"since": since}).all()
    return [Followed(*row) for row in rows]


def known(conn: Connection) -> list[tuple[int, Followed]]:
    """Every kept trade with when the desk kept it (`seen_at`), in that order: a replay's copies
    appear as the desk heard of them (its scratch database holds only the run's)."""
    rows = conn.execute(text("""SELECT seen_at, wallet, label, trade_key, condition_id, token_id, side, price, size, at
                                FROM followed_trades ORDER BY seen_at, id""")).all()
    return [(int(row[0]), Followed(*row[1:])) for row in rows]


@dataclass(frozen=True)
class ScoreRow:
    """One wallet finder result (engine/venues/polymarket/follow/finder.py), money in micro-pUSD."""

    wallet: str
    name: str
    category: str  # the leaderboard's ("" for a wallet scored on its own)
    period: str
    rank: int | None
    board_pnl: int | None
    board_volume: int | None
    window_days: int
    realized_pnl: int
    closed: int
    hit_rate: int | None  # micro-units of one
    trades: int
    markets: int
    volume: int
    mix: str  # JSON: [[market, share in micro-units of one], ...]
    complete: bool


def save_scores(db: Database, rows: Sequence[ScoreRow], now: int) -> None:
    """Each wallet's latest score for its window and board (a newer one replaces it)."""
    with db.write() as conn:
        run_many(conn, """INSERT INTO wallet_scores (wallet, name, category, period, rank, board_pnl, board_volume,
                              window_days, realized_pnl, closed, hit_rate, trades, markets, volume, mix, complete,
                              scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                          ON CONFLICT (wallet, window_days, category, period) DO UPDATE SET name = excluded.name,
                              rank = excluded.rank, board_pnl = excluded.board_pnl,
                              board_volume = excluded.board_volume, realized_pnl = excluded.realized_pnl,
                              closed = excluded.closed, hit_rate = excluded.hit_rate, trades = excluded.trades,
                              markets = excluded.markets, volume = excluded.volume, mix = excluded.mix,
                              complete = excluded.complete, scored_at = excluded.scored_at""",
                 [(r.wallet, r.name, r.category, r.period, r.rank, r.board_pnl, r.board_volume, r.window_days,
                   r.realized_pnl, r.closed, r.hit_rate, r.trades, r.markets, r.volume, r.mix, int(r.complete), now)
                  for r in rows])
