"""Why a running desk places nothing: what the Overview and `engine status` say when the desk is
TRADING and yet no order of its mode works; and why each strategy places nothing, for the
Strategies table. A desk can sit RUNNING and ACTIVE for minutes with no order (a strategy kept out
of its markets by an exit cool-down, a limit reached, no market selected, every quote refused below
the market's minimum size, the venue paused) and, unsaid, that reads as "fine" ("on · ok"). Read
with sqlite3 alone, from what the engine already records: the strategies, each one's selection, the
decisions log of the last minutes and the venue's conditions.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

from contracts.jsonsafe import read_stored
from contracts.strategy_fit import cannot_trade
from contracts.venue_policies import policy_of, venue_named, venues_armed_alone
from storage.desk.desk_state import desk_state
from storage.desk.desk_status import EngineStatus, one, rows

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


# -- each strategy ---------------------------------------------------------------------------------


def strategies_idle(conn: sqlite3.Connection, status: EngineStatus, now: int) -> dict[str, str]:
    """Why each strategy places nothing now, in the operator's words (a strategy with an order working
    and nothing against it is left out): off, paused, the desk not trading, not live on a live desk, no
    market, an order size below its markets' minimum, and the refusals of the decisions log's last two
    minutes by reason code, with their counts."""
    desk = desk_state(status)
    armed_alone = venues_armed_alone()  # each trades in its own armed mode
    cases = " ".join("WHEN s.markets LIKE ? THEN ?" for _ in armed_alone)  # a live strategy on a venue armed on its own
    found = rows(conn, f"""SELECT s.name, s.params, s.markets, s.enabled, s.paused, s.live, s.status, sel.selected,
                                  (SELECT COUNT(*) FROM orders o WHERE o.strategy = s.name AND o.status_rank < 100
                                   AND o.mode = CASE WHEN s.live = 0 THEN 'paper' {cases} ELSE ? END) AS working
                           FROM strategies s LEFT JOIN strategy_selection sel ON sel.name = s.name
                           WHERE s.deleted_at IS NULL ORDER BY s.name""",
                 (*(value for policy in armed_alone
                    for value in (f'%"{policy.market_prefix}%', status.mode_of(policy.venue))), status.mode))
    said: dict[str, str] = {}
    for row in found:
        why = _why_idle(conn, row, status, desk.label if not desk.trading else None, now)
        if why:
            said[row["name"]] = "; ".join(why)
    return said


def _why_idle(conn: sqlite3.Connection, row: sqlite3.Row, status: EngineStatus, desk_idle: str | None,
              now: int) -> list[str]:
    if row["status"] == "error":
        return ["disabled by the engine after an error: fix its settings and enable it"]
    if not row["enabled"]:
        return ["off: enable it (Settings tab)"]
    if row["paused"]:
        return ["paused on its own: Resume (Settings tab)"]
    params, markets = _stored(row["params"], {}), _stored(row["markets"], [])
    venue = venue_named(row["markets"])
    why = [] if desk_idle is None else [f"the desk is {desk_idle}"]
    if not row["live"] and status.mode_of(venue) == "live":
        why.append(f"held: paper only while {policy_of(venue).label} trades live (promote it)"
                   if policy_of(venue) in venues_armed_alone() else "paper only until promoted: it never trades live")
    if row["selected"] == 0 and not (isinstance(markets, list) and not markets):
        why.append("its list or filter selects no open market")
    why += cannot_trade(params, markets, _min_sizes(conn, markets))
    if row["working"]:
        return [w for w in why if "BELOW_MIN_SIZE" in w]  # working elsewhere: only what refuses some markets
    mode = "paper" if not row["live"] else status.mode_of(venue)
    refused = _refused(conn, row["name"], mode, now)
    if refused:
        return [refused, *why]  # what the engine did first: it is what a cut cell keeps
    if desk_idle is None and not why:
        why.append("no order asked for in the last 2 min (its conditions to quote are not met)")
    return why


def _stored(raw: str | None, empty: Any) -> Any:
    value, problem = read_stored(raw or "", what="stored column")
    return empty if problem or value is None else value


def _min_sizes(conn: sqlite3.Connection, markets: Any) -> dict[str, float]:
    """The minimum order size (shares) of each listed market the desk knows."""
    listed = [m for m in markets if isinstance(m, str)][:200] if isinstance(markets, list) else []
    if not listed:
        return {}
    known = rows(conn, f"SELECT condition_id, min_size FROM markets WHERE condition_id IN "
                       f"({', '.join('?' * len(listed))})", tuple(listed))
    return {r["condition_id"]: r["min_size"] / 1_000_000 for r in known}


def _refused(conn: sqlite3.Connection, strategy: str, mode: str, now: int) -> str:
    """The strategy's refused quotes of the window, each reason code with its count, the commonest in words."""
    counts = Counter({r["reason"]: r["n"] for r in rows(
        conn, """SELECT reason, COUNT(*) AS n FROM decisions WHERE strategy = ? AND mode = ? AND at >= ?
                 AND action = 'deny' GROUP BY reason""", (strategy, mode, now - WINDOW_MS))
        if not r["reason"].startswith(NOTES)})
    if not counts:
        return ""
    ranked = counts.most_common()
    plain = PLAIN.get(ranked[0][0], "see the decisions log")
    codes = ", ".join(f"{reason} ×{n}" for reason, n in ranked)
    return f"refused {codes} in the last 2 min: {plain}"
