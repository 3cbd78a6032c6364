from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl, now_ms


def up(db: UtilsDatabase) -> None:
    """`market_resolutions`: how and when each market ended, for a backtest to settle its positions at
    that moment (engine/backtest/resolutions.py): the outcome (`yes`, `no`, `value`: a YES share paid
    `yes_pays` and a NO the rest, a 50/50 or Kalshi's settlement at a value, `yes_pays` NULL while not
    known; `void`: every position paid back at its cost), when the venue ended it (ms UTC) and where
    the desk learnt it: `feed` (the desk heard it as it happened, the recorder kept it), `ledger` (a
    ledger of the desk settled it then: the rows below, copied), `gamma` and `kalshi` (an import read
    the venue's record of it), `trader` (given by hand). Markets resolved before this migration are
    dated by the first ledger that settled them (`resolutions.at`); the others' time is not known."""
    ddl(
        db,
        """
        CREATE TABLE market_resolutions (
            condition_id TEXT PRIMARY KEY,
            at INTEGER NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('yes', 'no', 'value', 'void')),
            yes_pays INTEGER CHECK (yes_pays IS NULL OR (outcome = 'value' AND yes_pays BETWEEN 0 AND 1000000)),
            source TEXT NOT NULL CHECK (source IN ('feed', 'ledger', 'gamma', 'kalshi', 'trader')),
            recorded_at INTEGER NOT NULL,
            recorded_by TEXT NOT NULL
        )
        """,
    )
    db.execute("""INSERT INTO market_resolutions (condition_id, at, outcome, yes_pays, source, recorded_at,
                                                  recorded_by)
                  SELECT r.condition_id, MIN(r.at),
                         CASE WHEN r.payout_yes = 1000000 THEN 'yes' WHEN r.payout_no = 1000000 THEN 'no'
                              ELSE 'value' END,
                         CASE WHEN r.payout_yes IN (0, 1000000) THEN NULL ELSE r.payout_yes END,
                         'ledger', ?, 'migration'
                  FROM resolutions r GROUP BY r.condition_id""", [now_ms()])
