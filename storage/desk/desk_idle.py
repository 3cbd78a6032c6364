"""Why a running desk places nothing: what the Overview and `engine status` say when the desk is
TRADING and yet no order of its mode works. A desk can sit RUNNING and ACTIVE for minutes with no
order (a strategy kept out of its markets by an exit cool-down, a limit reached, no market selected,
the venue paused) and, unsaid, that reads as "fine". Read with sqlite3 alone, from what the engine
already records: the strategies, each one's selection, the decisions log of the last minutes and the
venue's conditions.
"""

from __future__ import annotations

import sqlite3

from storage.desk.desk_status import one, rows

WINDOW_MS = 120_000  # the decisions read: the last two minutes
# What a refusal reason means for a strategy that places nothing (engine/risk/gate.py's Reason).
PLAIN = {
    "EXIT_COOLDOWN": "an exit's cool-down keeps it out of the market",
    "STOP_LOSS": "a stop loss is selling its position there",
    "TAKE_PROFIT": "a take profit is selling its position there",
    "STALE_DATA": "its markets' books are stale",
    "NO_MID": "its markets have no two-sided book",
    "MAX_TOTAL_EXPOSURE": "the total exposure limit is reached",
    "MAX_MARKET_EXPOSURE": "the per-market exposure limit is reached",
    "MAX_STRATEGY_EXPOSURE": "its exposure limit is reached",
    "MAX_EVENT_EXPOSURE": "the per-event exposure limit is reached",
    "MAX_CORRELATED_EXPOSURE": "the correlated-exposure limit is reached",
    "MAX_OPEN_ORDERS": "the open-orders limit is reached",
    "MAX_ORDER_RATE": "the order-rate limit is reached",
    "MAX_ORDER_SIZE": "its orders are above the max order size",
    "MIN_ORDER_VALUE": "its orders are below the minimum order value",
    "BELOW_MIN_SIZE": "its sizes are below the markets' minimum order",
    "STRATEGY_HALTED": "its own breaker halted it",
    "STRATEGY_REDUCING": "its own breaker lets it only reduce",
    "VOLATILITY_HALTED": "a volatility spike halted its markets",
    "RESOLUTION_PENDING": "its markets' resolution is under way",
    "GAME_STARTING": "its markets' games are about to start",
    "FILLS_DARK": "the channel reporting fills is down",
    "VENUE_MAINTENANCE": "the venue is in maintenance",
    "VENUE_POST_ONLY": "the venue takes only post-only orders",
    "VENUE_RATE_LIMITED": "the venue is rate-limiting the desk",
    "VENUE_REFUSED": "the venue refuses its orders",
    "TAKE_HELD": "its takes wait for the book to change after a refusal",
    "SELF_TRADE": "its quotes would trade with the desk's own orders",
}
NOTES = ("REGIME_", "EXIT_FIRST", "OPERATOR_EXIT", "ORDER_AGE")  # notes of the log, not reasons to place nothing


def idle_reasons(conn: sqlite3.Connection, mode: str, now: int) -> list[str]:
    """Why nothing of `mode` is placed, most telling first (empty: orders are working)."""
    working = one(conn, "SELECT COUNT(*) AS n FROM orders WHERE mode = ? AND status_rank < 100", (mode,))
    if working is not None and working["n"]:
        return []
    strategies = rows(conn, """SELECT s.name, s.paused, s.live, sel.selected FROM strategies s
                               LEFT JOIN strategy_selection sel ON sel.name = s.name
                               WHERE s.enabled = 1 AND s.deleted_at IS NULL ORDER BY s.name""")
    if not strategies:
        return ["no strategy is enabled: enable one on the Strategies page"]
    said = []
    if mode == "live" and not any(s["live"] for s in strategies):
        said.append("no strategy is promoted to live: the paper-only ones trade on paper beside it (Strategies page)")
    said += [f"{s['name']} is paused on its own" for s in strategies if s["paused"]]
    said += [f"{s['name']} selects no market (its list or filter matches no open market)" for s in strategies
             if s["selected"] == 0 and not s["paused"]]
    said += _refusals(conn, mode, now)
    venue = one(conn, "SELECT venue_status FROM engine_state WHERE id = 1")
    if venue is not None and venue["venue_status"] != "ok":
        said.append(f"the venue is {venue['venue_status'].replace('_', ' ')}")
    return said or ["no strategy asked for an order in the last two minutes (their conditions to quote are not "
                    "met): the decisions log and each strategy's page say more"]


def _refusals(conn: sqlite3.Connection, mode: str, now: int) -> list[str]:
    """Each strategy's commonest refusal of the window, in words."""
    found = rows(conn, """SELECT strategy, reason, COUNT(*) AS n FROM decisions WHERE mode = ? AND at >= ?
                          AND action = 'deny' GROUP BY strategy, reason ORDER BY strategy, n DESC""",
                 (mode, now - WINDOW_MS))
    said, seen = [], set()
    for row in found:
        if row["strategy"] in seen or row["reason"].startswith(NOTES):
            continue
        seen.add(row["strategy"])
        plain = PLAIN.get(row["reason"], "see the decisions log")
        said.append(f"{row['strategy']}: {plain} ({row['reason']}, {row['n']} refusal{'s' if row['n'] != 1 else ''} "
                    "in the last 2 min)")
    return said
