from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The public trades of the wallets the desk follows, as the Data API listed them (engine/follow/),
    each once: what copy_trading strategies copy and what the Strategies page values."""
    ddl(
        db,
        """
        CREATE TABLE followed_trades (
            id INTEGER PRIMARY KEY,
            wallet TEXT NOT NULL,
            label TEXT NOT NULL,
            trade_key TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL CHECK (price > 0 AND price < 1000000),
            size INTEGER NOT NULL CHECK (size > 0),
            at INTEGER NOT NULL,
            seen_at INTEGER NOT NULL,
            UNIQUE (wallet, trade_key)
        );
        CREATE INDEX followed_trades_by_market ON followed_trades (condition_id, at);
        CREATE INDEX followed_trades_by_wallet ON followed_trades (wallet, at);
        """,
    )
