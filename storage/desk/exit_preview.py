"""What an operator's exit or flatten would sell, and at no less than what, read with sqlite3 alone: the
lines the CLI prints and Telegram's /flatten asks to confirm (the dashboard's Exit dialog builds the same
lines from the positions table it shows: pages/widgets/exit_panel.py). Each floor is the latest recorded
mid less the max-slippage limit, on the market's grid (contracts/exit_floors.py); the command carries them,
and the engine never sells below them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from contracts.domain import to_micros
from contracts.exit_floors import ExitLine, exit_line
from contracts.limits import BY_NAME, LimitError, parse_value
from contracts.venue_policies import venues_armed_alone
from contracts.venues import desk_venue, venue_of
from storage.desk.desk_status import engine_status, one, rows

QUESTION_CHARS = 70


def max_slippage(conn: sqlite3.Connection) -> int:
    """The max-slippage limit in force (its default when none is stored, or the stored one does not read)."""
    spec = BY_NAME["max_slippage"]
    row = one(conn, "SELECT value FROM risk_limits WHERE name = 'max_slippage'")
    try:
        value = spec.default if row is None else parse_value(spec, row["value"])
    except LimitError:
        value = spec.default
    return to_micros(value)


def lines(conn: sqlite3.Connection, ledgers: list[tuple[str, str]], payload: dict[str, Any]) -> list[ExitLine]:
    """The positions an exit or flatten with this payload sells on these (mode, venue) ledgers, each with
    its floor: those holding shares, of its strategy, market and outcome when it names them."""
    slippage = max_slippage(conn)
    found: list[ExitLine] = []
    for mode, venue in ledgers:
        for r in rows(conn, """SELECT p.strategy, p.condition_id, p.outcome, p.settled + p.pending AS shares, m.tick,
                                      COALESCE(m.question, (SELECT kalshi_title FROM venue_pairs
                                               WHERE 'kalshi:' || kalshi_ticker = p.condition_id)) AS question,
                                      (SELECT t.mid FROM ticks t WHERE t.token_id = p.token_id AND t.mid IS NOT NULL
                                       ORDER BY t.at DESC LIMIT 1) AS mark
                               FROM positions p LEFT JOIN markets m ON m.condition_id = p.condition_id
                               WHERE p.mode = ? AND p.venue = ? AND p.settled + p.pending > 0
                                 AND (? IS NULL OR p.strategy = ?) AND (? IS NULL OR p.condition_id = ?)
                                 AND (? IS NULL OR p.outcome = ?)
                               ORDER BY p.strategy, p.condition_id, p.outcome""",
                       (mode, venue, *_twice(payload.get("strategy")), *_twice(payload.get("condition_id")),
                        *_twice(payload.get("outcome")))):
            question = " ".join(str(r["question"] or r["condition_id"]).split())[:QUESTION_CHARS]
            found.append(exit_line(r["strategy"], r["condition_id"], question, r["outcome"], int(r["shares"]),
                                   r["mark"], r["tick"], slippage))
    return found


def _twice(value: Any) -> tuple[Any, Any]:
    return value, value


def ledgers_of(conn: sqlite3.Connection, db_path: Path, kind: str, payload: dict[str, Any]) -> list[tuple[str, str]]:
    """The (mode, venue) ledgers a command sells on: an exit the one holding its position (its market's venue in
    that venue's mode; on the desk's venue, `ledger` or the desk's mode), a flatten the desk's ledger and every
    venue armed live on its own (engine/trading/passes/operator_commands.py)."""
    status = engine_status(conn, db_path)
    apart: list[str] = [policy.venue for policy in venues_armed_alone()]
    if kind == "flatten":
        return [(status.mode, str(desk_venue()))] + [("live", v) for v in apart if status.mode_of(v) == "live"]
    cid = payload.get("condition_id")
    if isinstance(cid, str) and venue_of(cid) != desk_venue():
        return [(status.mode_of(venue_of(cid)), str(venue_of(cid)))]
    return [(str(payload.get("ledger") or status.mode), str(desk_venue()))] + [(status.mode_of(v), v) for v in apart]
