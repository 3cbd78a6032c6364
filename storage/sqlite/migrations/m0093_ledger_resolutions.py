from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """`resolutions`: when each ledger (mode, with its venue) closed its positions in a market at the
    market's payouts, written by the executor with the closing (engine/execution/event_applier.py,
    `settle_market`): the date a resolution disposed of what was held, for the tax-lot export (a
    losing side's close leaves no claim to date it by). A market resolved before this migration is
    dated by its first redeem claim in that ledger, else by its positions' last update there (the
    best the ledger kept); a Kalshi market resolved before it has no payouts stored to copy."""
    ddl(
        db,
        """
        CREATE TABLE resolutions (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            venue TEXT NOT NULL DEFAULT 'polymarket',
            condition_id TEXT NOT NULL,
            payout_yes INTEGER NOT NULL,
            payout_no INTEGER NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (mode, condition_id)
        )
        """,
    )
    db.execute("""INSERT INTO resolutions (mode, venue, condition_id, payout_yes, payout_no, at)
                  SELECT p.mode, p.venue, m.condition_id, m.payout_yes, m.payout_no,
                         COALESCE((SELECT MIN(c.created_at) FROM claims c WHERE c.mode = p.mode
                                       AND c.condition_id = m.condition_id AND c.kind = 'redeem'
                                       AND c.ref NOT LIKE 'refund:%'), MAX(p.updated_at))
                  FROM markets m JOIN positions p ON p.condition_id = m.condition_id
                  WHERE m.payout_yes IS NOT NULL AND m.payout_no IS NOT NULL
                  GROUP BY p.mode, m.condition_id""")
