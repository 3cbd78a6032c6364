from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The wallet finder's results (engine/follow/finder.py, `python -m engine wallets`): per wallet and
    scoring, the venue's leaderboard figures (rank, PnL and volume of its period, micro-pUSD) and
    what the desk measured over the chosen window from the Data API: realized PnL (micro-pUSD) and
    hit rate (micro-units of one) of the positions closed in it, how many, the trades, markets and
    volume, and the market mix (JSON: the biggest markets' shares of volume)."""
    ddl(
        db,
        """
        CREATE TABLE wallet_scores (
            id INTEGER PRIMARY KEY,
            wallet TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            category TEXT NOT NULL,
            period TEXT NOT NULL,
            rank INTEGER,
            board_pnl INTEGER,
            board_volume INTEGER,
            window_days INTEGER NOT NULL CHECK (window_days > 0),
            realized_pnl INTEGER NOT NULL,
            closed INTEGER NOT NULL CHECK (closed >= 0),
            hit_rate INTEGER CHECK (hit_rate BETWEEN 0 AND 1000000),
            trades INTEGER NOT NULL CHECK (trades >= 0),
            markets INTEGER NOT NULL CHECK (markets >= 0),
            volume INTEGER NOT NULL CHECK (volume >= 0),
            mix TEXT NOT NULL DEFAULT '[]',
            complete INTEGER NOT NULL DEFAULT 1 CHECK (complete IN (0, 1)),
            scored_at INTEGER NOT NULL,
            UNIQUE (wallet, window_days, category, period)
        );
        CREATE INDEX wallet_scores_by_time ON wallet_scores (scored_at);
        """,
    )
