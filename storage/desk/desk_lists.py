"""Short lists for a phone, read with sqlite3 alone (like storage/desk/desk_status.py): open orders,
open positions, PnL over a window, and the markets a position is held in (what `/flatten` may
name). The Telegram bot shows them; money is pUSD as floats, for display only.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from contracts.venues import desk_venue
from storage.desk.desk_status import MICRO, OPEN_RANK, one, rows, snapshots_since

QUESTION_CHARS = 70


def _question(raw: Any, condition_id: str) -> str:
    text = " ".join(str(raw or condition_id).split())
    return text if len(text) <= QUESTION_CHARS else text[: QUESTION_CHARS - 1] + "…"


def _named(alias: str) -> str:
    """A market's name: its question, or for a Kalshi market "Kalshi: " and the title the operator
    paired (a Kalshi market is in no `markets` row)."""
    return (f"COALESCE(m.question, 'Kalshi: ' || (SELECT kalshi_title FROM venue_pairs "
            f"WHERE 'kalshi:' || kalshi_ticker = {alias}.condition_id)) AS question")


def _on_venue(alias: str, venue: str | None) -> tuple[str, tuple[Any, ...]]:
    """A list's optional venue clause (every venue's ledger when None), and its argument."""
    return ("", ()) if venue is None else (f" AND {alias}.venue = ?", (venue,))


def open_orders(conn: sqlite3.Connection, mode: str, *, venue: str | None = None,
                limit: int = 20) -> tuple[int, list[dict[str, Any]]]:
    """How many orders are working (on every venue's ledger of `mode`, or on `venue`'s), and the
    newest `limit` of them."""
    on, extra = _on_venue("o", venue)
    args = (mode, OPEN_RANK, *extra)
    count = one(conn, f"SELECT COUNT(*) AS n FROM orders o WHERE o.mode = ? AND o.status_rank < ?{on}", args)
    found = rows(conn, f"""SELECT o.id, o.strategy, o.venue, o.condition_id, o.outcome, o.side, o.price, o.size,
                                  o.filled, o.tif, o.status, {_named("o")}, m.slug
                          FROM orders o LEFT JOIN markets m ON m.condition_id = o.condition_id
                          WHERE o.mode = ? AND o.status_rank < ?{on} ORDER BY o.id DESC LIMIT ?""", (*args, limit))
    return (0 if count is None else int(count["n"])), [
        {"id": r["id"], "strategy": r["strategy"], "market": _question(r["question"], r["condition_id"]),
         "venue": r["venue"], "condition_id": r["condition_id"], "outcome": r["outcome"], "side": r["side"],
         "price": r["price"] / MICRO, "size": r["size"] / MICRO, "filled": r["filled"] / MICRO,
         "tif": r["tif"], "status": r["status"]} for r in found]


def open_positions(conn: sqlite3.Connection, mode: str, *, venue: str | None = None,
                   limit: int = 20) -> tuple[int, list[dict[str, Any]]]:
    """How many positions hold shares (on every venue's ledger of `mode`, or on `venue`'s), and the
    largest `limit` by cost."""
    on, extra = _on_venue("p", venue)
    args = (mode, *extra)
    where = "FROM positions p LEFT JOIN markets m ON m.condition_id = p.condition_id WHERE p.mode = ? " \
            f"AND p.settled + p.pending != 0{on}"
    count = one(conn, f"SELECT COUNT(*) AS n {where}", args)
    found = rows(conn, f"""SELECT p.strategy, p.venue, p.condition_id, p.outcome, p.settled, p.pending, p.cost,
                                  p.realized, {_named("p")}, m.slug {where} ORDER BY ABS(p.cost) DESC LIMIT ?""",
                 (*args, limit))
    out = []
    for r in found:
        shares = (r["settled"] + r["pending"]) / MICRO
        out.append({"strategy": r["strategy"], "market": _question(r["question"], r["condition_id"]),
                    "venue": r["venue"], "condition_id": r["condition_id"], "slug": r["slug"],
                    "outcome": r["outcome"], "shares": shares, "pending": r["pending"] / MICRO,
                    "cost": r["cost"] / MICRO, "average": (r["cost"] / MICRO / shares) if shares else None,
                    "realized": r["realized"] / MICRO})
    return (0 if count is None else int(count["n"])), out


def pnl_window(conn: sqlite3.Connection, mode: str, since: int) -> dict[str, Any] | None:
    """Equity now and its change since `since`, with realized PnL, fees, fills and volume in the
    window (from the portfolio snapshots and fills); None before the first snapshot."""
    found = snapshots_since(conn, mode, since, at_since_is_before=True)
    if found is None:
        return None
    latest, base = found
    fills = one(conn, """SELECT COUNT(*) AS n, COALESCE(SUM(price * size / 1000000), 0) AS volume,
                                COALESCE(SUM(fee), 0) AS fees
                         FROM fills WHERE mode = ? AND matched_at >= ? AND status != 'FAILED'""", (mode, since))
    assert fills is not None
    return {"equity": latest["equity"] / MICRO, "change": (latest["equity"] - base["equity"]) / MICRO,
            "realized": (latest["realized"] - base["realized"]) / MICRO,
            "fees": (latest["fees"] - base["fees"]) / MICRO, "from": base["at"], "as_of": latest["at"],
            "fills": int(fills["n"]), "volume": fills["volume"] / MICRO, "fill_fees": fills["fees"] / MICRO}


def held_markets(conn: sqlite3.Connection, mode: str, wanted: str) -> list[dict[str, Any]]:
    """Markets with a position on the desk's own (Polymarket) ledger whose condition id starts with
    `wanted` (at least 6 characters) or whose slug is `wanted`: what `/flatten <market>` may mean
    (flatten sells the desk's ledger; a Kalshi position is not its to sell)."""
    text = wanted.strip().lower()
    found = rows(conn, """SELECT DISTINCT p.condition_id, m.question, m.slug FROM positions p
                          LEFT JOIN markets m ON m.condition_id = p.condition_id
                          WHERE p.mode = ? AND p.venue = ? AND p.settled + p.pending != 0
                          AND ((length(?) >= 6 AND lower(p.condition_id) LIKE ? || '%') OR lower(m.slug) = ?)
                          ORDER BY p.condition_id LIMIT 10""", (mode, desk_venue(), text, text.replace("%", ""), text))
    return [{"condition_id": r["condition_id"], "market": _question(r["question"], r["condition_id"]),
             "slug": r["slug"]} for r in found]
