from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The paper venue's trades by the time they matched: its rebates over a span of time
    (engine/venues/paper_settlement.py `rebates_earned`, which a backtest asks every reward sample, a
    minute of its simulated time) and its trades since a time (the paper venue's `trades`) read the
    trades of that span, not every trade it ever made."""
    ddl(db, "CREATE INDEX ix_paper_trades_matched ON paper_trades (matched_at)")
