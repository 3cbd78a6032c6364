from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl

# The tables whose rows belong to one venue's ledger (engine/execution and the paper venue's book).
VENUE_KEYED = ("orders", "fills", "positions", "cash_ledger", "claims", "settlement_txs", "position_conversions",
               "portfolio_snapshots", "strategy_snapshots", "paper_orders", "paper_trades", "paper_settlements")


def up(db: UtilsDatabase) -> None:
    """Which venue each ledger row belongs to: one engine keeps a ledger per (mode, venue), so
    Polymarket's and Kalshi's orders, fills, positions, cash, claims and valuations never mix, and
    each venue's executor and paper venue read only their own. Every row made before is
    Polymarket's. No CHECK (an upgrade must never stop on an existing row; the engine writes only
    the venues contracts/venues.py names)."""
    ddl(db, "\n".join(f"ALTER TABLE {table} ADD COLUMN venue TEXT NOT NULL DEFAULT 'polymarket';"
                       for table in VENUE_KEYED))
