"""What the venue owes and what it paid, read with sqlite3 alone (engine status, the dashboard).

`money` splits equity the way the ledger does: cash (what the venue has paid), redeemable
(open claims: resolved winning positions and merges the venue has not paid yet) and
positions at their mark. `redeemable` lists the open claims by market, with the state of the
last redeem or merge sent for it. Money is pUSD as floats, for display only.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from storage.desk.desk_status import MICRO, one, rows

if TYPE_CHECKING:  # sqlite3 alone at run time: `engine status` never imports SQLAlchemy
    from storage.sqlite.db import Database


def money(conn: sqlite3.Connection, mode: str) -> dict[str, float]:
    """The desk's own ledger's (Polymarket's: another venue's paper ledger is reported apart) cash,
    redeemable and the venue's payments so far (redemptions, merges, rebates, rewards), in pUSD."""
    cash = one(conn, "SELECT COALESCE(SUM(amount), 0) AS n FROM cash_ledger WHERE mode = ? AND venue = 'polymarket'",
               (mode,))
    fills = one(conn, """SELECT COALESCE(SUM(CASE WHEN side = 'BUY' THEN -(price * size / 1000000)
                                                   ELSE price * size / 1000000 END - fee), 0) AS n
                         FROM fills WHERE mode = ? AND venue = 'polymarket' AND status != 'FAILED'""", (mode,))
    owed = one(conn, "SELECT COALESCE(SUM(amount), 0) AS n FROM claims WHERE mode = ? AND venue = 'polymarket' "
                     "AND status = 'open'", (mode,))
    paid = {r["kind"]: r["n"] for r in rows(conn, """SELECT kind, COALESCE(SUM(amount), 0) AS n FROM cash_ledger
                                                      WHERE mode = ? AND venue = 'polymarket'
                                                        AND kind IN ('redemption', 'merge', 'rebate', 'reward')
                                                      GROUP BY kind""", (mode,))}
    return {
        "cash_usdc": round(((cash["n"] if cash else 0) + (fills["n"] if fills else 0)) / MICRO, 6),
        "redeemable_usdc": round((owed["n"] if owed else 0) / MICRO, 6),
        "redeemed_usdc": round(paid.get("redemption", 0) / MICRO, 6),
        "merged_usdc": round(paid.get("merge", 0) / MICRO, 6),
        "rebates_usdc": round(paid.get("rebate", 0) / MICRO, 6),
        "rewards_usdc": round(paid.get("reward", 0) / MICRO, 6),
    }


def redeemable(conn: sqlite3.Connection, mode: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Open claims by market: what Polymarket owes there (Kalshi pays a settled market by itself),
    since when, and the last transaction."""
    found = rows(conn, """
        SELECT c.condition_id, c.kind, COALESCE(m.question, c.condition_id) AS question,
               SUM(c.amount) AS owed, MIN(c.created_at) AS since, GROUP_CONCAT(DISTINCT c.strategy) AS strategies,
               (SELECT t.state FROM settlement_txs t WHERE t.mode = c.mode AND t.condition_id = c.condition_id
                  AND t.kind = c.kind ORDER BY t.id DESC LIMIT 1) AS last_tx,
               (SELECT t.error FROM settlement_txs t WHERE t.mode = c.mode AND t.condition_id = c.condition_id
                  AND t.kind = c.kind ORDER BY t.id DESC LIMIT 1) AS last_error
        FROM claims c LEFT JOIN markets m ON m.condition_id = c.condition_id
        WHERE c.mode = ? AND c.venue = 'polymarket' AND c.status = 'open'
        GROUP BY c.condition_id, c.kind ORDER BY since LIMIT ?""", (mode, limit))
    return [{"condition_id": r["condition_id"], "kind": r["kind"], "question": r["question"],
             "owed_usdc": round(r["owed"] / MICRO, 6), "since": r["since"], "strategies": r["strategies"],
             "last_tx": r["last_tx"], "last_error": r["last_error"]} for r in found]


def for_dashboard(db: Database, mode: str) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """`money` and `redeemable` in one read (the Overview's Redeemable panel)."""
    with db.read() as conn:
        raw = conn.connection.driver_connection
        return money(raw, mode), redeemable(raw, mode)  # type: ignore[arg-type]  # raw: the sqlite3 connection under SQLAlchemy's
