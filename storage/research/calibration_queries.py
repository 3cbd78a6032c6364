"""The SQL of calibration (contracts/calibration.py scores it): a strategy's stated
probabilities of YES in markets that have resolved, each with what one YES paid."""

from __future__ import annotations

from sqlalchemy import text

from storage.sqlite.db import Database


def scored_forecasts(db: Database, mode: str, strategy: str) -> list[tuple[str, int, int]]:
    """(condition_id, probability, what one YES paid) for each forecast the strategy stated in `mode`
    for a market with a resolution (micro-units), oldest first."""
    with db.read() as conn:
        rows = conn.execute(text(
            """SELECT f.condition_id, f.probability, mk.payout_yes FROM forecasts f
               JOIN markets mk ON mk.condition_id = f.condition_id AND mk.payout_yes IS NOT NULL
               WHERE f.mode = :mode AND f.strategy = :strategy ORDER BY f.id"""),
            {"mode": mode, "strategy": strategy}).all()
    return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]


def forecast_count(db: Database, mode: str, strategy: str) -> int:
    """How many forecasts the strategy stated in `mode`, resolved or not."""
    with db.read() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM forecasts WHERE mode = :mode AND strategy = :strategy"),
                                {"mode": mode, "strategy": strategy}).scalar_one())
