"""What a session's history is (where it came from, whose prints, which hours are missing) and the
tick sizes in force while it was recorded: carried in a session file's header, stored beside the
session (`recording_sessions.history`, `tick_sizes`), read by a backtest to replay the market as
it was and to state what it replayed.

A file is someone else's: every field is checked and bounded before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, text

from contracts.venue_rules import TICKS
from storage.research.recording_sessions import SessionError

SOURCES = ("pmxt", "recorded", "kalshi")
PRINTS = ("archive", "data_api", "none", "recorded", "kalshi_trades")
LAYOUTS = ("v1", "v2")
MOST_ENTRIES = 20_000  # gaps or tick size changes in one session (a day of 500 markets has far fewer)


def checked_history(raw: Any, tokens: set[str], span: tuple[int, int]) -> dict[str, Any] | None:
    """The header's `history`, checked field by field (None when the file has none)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"source", "layouts", "prints", "print_fees", "gaps", "tick_sizes"}:
        raise SessionError("the header's history is not {source, layouts, prints, print_fees, gaps, tick_sizes}")
    source, layouts, prints = raw.get("source"), raw.get("layouts", []), raw.get("prints")
    if source not in SOURCES or prints not in PRINTS or not isinstance(raw.get("print_fees", False), bool):
        raise SessionError(f"the header's history names a source ({', '.join(SOURCES)}) and where its prints came "
                           f"from ({', '.join(PRINTS)})")
    if not isinstance(layouts, list) or not set(layouts) <= set(LAYOUTS) or len(layouts) > len(LAYOUTS):
        raise SessionError("the header's history lists the archive's layouts (v1, v2)")
    gaps = _entries(raw.get("gaps", []), "gaps")
    for gap in gaps:
        if not (isinstance(gap, list) and len(gap) == 2 and all(_whole(x) for x in gap)
                and span[0] <= gap[0] <= gap[1] <= span[1]):
            raise SessionError("a gap of the header's history is not [from, to] inside the session's span")
    changes = _entries(raw.get("tick_sizes", []), "tick_sizes")
    for change in changes:
        if not (isinstance(change, list) and len(change) == 4 and change[0] in tokens and _whole(change[1])
                and span[0] <= change[1] <= span[1] and (change[2] is None or change[2] in TICKS)
                and change[3] in TICKS):
            raise SessionError("a tick size change of the header's history is not [token of the session, time inside "
                               "its span, old tick or null, new tick] with ticks the venue uses")
    return {"source": source, "layouts": sorted(layouts), "prints": prints,
            "print_fees": bool(raw.get("print_fees", False)), "gaps": gaps, "tick_sizes": changes}


def _entries(raw: Any, what: str) -> list[Any]:
    if not isinstance(raw, list) or len(raw) > MOST_ENTRIES:
        raise SessionError(f"the header's history {what} is not a list of at most {MOST_ENTRIES:,}")
    return raw


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def store(conn: Connection, session_id: int, history: dict[str, Any] | None) -> None:
    """The session's history beside it; its tick size changes into `tick_sizes` (a change this desk
    already holds at that time is kept as it is)."""
    if history is None:
        return
    stated = {k: v for k, v in history.items() if k != "tick_sizes"}
    conn.execute(text("UPDATE recording_sessions SET history = :h WHERE id = :i"),
                 {"h": json.dumps(stated, separators=(",", ":")), "i": session_id})
    rows = [{"t": token, "a": at, "old": old, "new": new} for token, at, old, new in history["tick_sizes"]]
    if rows:
        conn.execute(text("""INSERT INTO tick_sizes (token_id, at, tick, old_tick) VALUES (:t, :a, :new, :old)
                             ON CONFLICT (token_id, at) DO NOTHING"""), rows)


def tick_changes(conn: Connection, tokens: Iterable[str], start: int, end: int) -> list[list[Any]]:
    """[token, at, old, new] of `tokens` as a session over [start, end] states them (tick_sizes_in_span)."""
    rows = conn.execute(text("""SELECT token_id, at, old_tick, tick FROM tick_sizes
                                WHERE token_id IN (SELECT value FROM json_each(:t)) ORDER BY at, token_id"""),
                        {"t": json.dumps(sorted(set(tokens)))}).all()
    return tick_sizes_in_span([(r[0], r[1], r[2], r[3]) for r in rows], (start, end))


def tick_sizes_in_span(changes: Iterable[tuple[str, int, int | None, int]], span: tuple[int, int]) -> list[list[Any]]:
    """The tick size changes as a session states them, each inside its span ([token, at, old, new], by
    time): a token's last change at or before the span's start is in force from its start; the
    changes inside stay at their times; the first change after the span's end says what the tick was
    until then (its old tick, in force from the start) when nothing before it does. So a replay of
    hours that traded on 0.01 before the market moved to today's 0.001 trades on 0.01."""
    stated: dict[str, list[Any]] = {}  # each token's tick in force at the span's start
    inside: list[list[Any]] = []
    for token, at, old, new in sorted(changes, key=lambda change: change[1]):
        if at <= span[0]:
            stated[token] = [token, span[0], old, new]
        elif at <= span[1]:
            inside.append([token, at, old, new])
        elif old is not None and token not in stated and all(change[0] != token for change in inside):
            stated[token] = [token, span[0], None, old]
    return sorted([*stated.values(), *inside], key=lambda change: (change[1], change[0]))


def history_of(conn: Connection, session_id: int) -> dict[str, Any] | None:
    raw = conn.execute(text("SELECT history FROM recording_sessions WHERE id = :i"), {"i": session_id}).scalar()
    return json.loads(raw) if raw else None
