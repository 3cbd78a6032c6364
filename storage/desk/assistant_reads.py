"""What the MCP server (engine/outside/mcp_server.py) reads for an assistant beyond `engine
status`'s report: markets by their words, the decisions log, recent alerts. Plain sqlite3 on a
read-only connection (storage/sqlite/lite.py), bounded by `limit`, probabilities and money as
floats in their units."""

from __future__ import annotations

import sqlite3
from typing import Any

MICRO = 1_000_000
MAX_ROWS = 200


def _bounded(limit: int) -> int:
    return max(1, min(int(limit), MAX_ROWS))


def markets(conn: sqlite3.Connection, words: str, limit: int) -> list[dict[str, Any]]:
    """Open markets whose question holds every word given (all open markets without words), the
    busiest first, with the newest fair value stored for it (`fair_values` says which is in force)."""
    terms = [w for w in words.lower().split() if w][:8]
    where = " AND ".join(["m.closed = 0", *("LOWER(m.question) LIKE ?" for _ in terms)])
    found = conn.execute(f"""SELECT m.condition_id, m.question, m.slug, m.end_at, m.volume_24h,
                                    (SELECT fair_value FROM signals s WHERE s.condition_id = m.condition_id
                                       ORDER BY s.updated_at DESC LIMIT 1) AS fair_value
                             FROM markets m WHERE {where} ORDER BY m.volume_24h DESC LIMIT ?""",
                         (*(f"%{t}%" for t in terms), _bounded(limit))).fetchall()
    return [{"condition_id": r[0], "question": r[1], "slug": r[2], "end_at": r[3],
             "volume_24h": (r[4] or 0) / MICRO, "latest_fair_value": None if r[5] is None else r[5] / MICRO}
            for r in found]


def decisions(conn: sqlite3.Connection, limit: int, market: str | None = None) -> list[dict[str, Any]]:
    """The decisions log, newest first: why the gate trimmed or refused, conflicts, regime notes."""
    clause, args = ("WHERE condition_id = ?", (market,)) if market else ("", ())
    found = conn.execute(f"""SELECT at, mode, strategy, condition_id, side, price, requested, approved, action, reason,
                                    detail FROM decisions {clause} ORDER BY id DESC LIMIT ?""",
                         (*args, _bounded(limit))).fetchall()
    return [{"at": r[0], "mode": r[1], "strategy": r[2], "condition_id": r[3], "side": r[4], "price": r[5] / MICRO,
             "requested": r[6] / MICRO, "approved": r[7] / MICRO, "action": r[8], "reason": r[9], "detail": r[10]}
            for r in found]


def alerts(conn: sqlite3.Connection, limit: int) -> list[dict[str, Any]]:
    found = conn.execute("""SELECT id, created_at, level, source, code, message, acked_at FROM alerts
                            ORDER BY id DESC LIMIT ?""", (_bounded(limit),)).fetchall()
    return [{"id": r[0], "at": r[1], "level": r[2], "source": r[3], "code": r[4], "message": r[5],
             "acknowledged": r[6] is not None} for r in found]
