"""Has what a live panel shows changed? Cheap reads the dashboard asks every few seconds instead of
redrawing (pages/widgets/live.py): a panel redraws only when its probe reads otherwise than when it
last drew.

Each probe is a handful of index seeks (migration 0121 indexes what they read), never a scan of a
table that grows with trading, and reads none of the heartbeat's own clock: the engine writes its
heartbeat twice a second, so SQLite's `data_version` (any commit) would say "changed" every time.
What time alone moves (a heartbeat's age) is read as the state it implies (alive or stale).
tests/browser/test_idle_tab.py traces the dashboard's SQL: on a desk where nothing changes, what it
reads is what these probes read, and nothing while its tab is hidden.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Hashable
from typing import Any

from sqlalchemy import text

from storage.dashboard_queries import status_queries as queries
from storage.desk import desk_state
from storage.sqlite.db import Database, now_ms

PROBE = "/* probe */"  # in every statement of its own here, to tell them apart in a trace

# Trading: the newest order, fill, position and cash change; the engine's latest valuation (its
# snapshots); and the marks of what is held (the newest tick of each held token: a price that moves).
_LEDGER = f"""SELECT {PROBE} (SELECT MAX(id) FROM orders), (SELECT MAX(updated_at) FROM orders),
    (SELECT MAX(id) FROM fills), (SELECT MAX(updated_at) FROM fills), (SELECT MAX(updated_at) FROM positions),
    (SELECT MAX(id) FROM cash_ledger), (SELECT MAX(rowid) FROM portfolio_snapshots)"""
_MARKS = f"""SELECT {PROBE} MAX((SELECT MAX(t.at) FROM ticks t WHERE t.token_id = p.token_id)), MAX(m.updated_at)
    FROM positions p LEFT JOIN markets m ON m.condition_id = p.condition_id WHERE p.settled != 0 OR p.pending != 0"""
# Orders in the last minute fall out of the count as time passes, with no write to say so.
_RECENT_ORDERS = f"SELECT {PROBE} COUNT(*) FROM orders WHERE created_at >= :since"
# What the operator configures (limits, strategies, settings) and each other ledger's breakers (each
# table a few dozen rows).
_CONFIG = f"""SELECT {PROBE} (SELECT MAX(updated_at) FROM risk_limits), (SELECT SUM(version) FROM risk_limits),
    (SELECT MAX(updated_at) FROM strategies), (SELECT COUNT(*) FROM strategies),
    (SELECT MAX(updated_at) FROM settings), (SELECT MAX(updated_at) FROM venue_risk)"""
# The newest commands and alerts, with what became of them (an answer, an acknowledgement).
_COMMANDS = f"SELECT {PROBE} id, status FROM commands ORDER BY id DESC LIMIT 20"
_ALERTS = f"SELECT {PROBE} id, acked_at FROM alerts ORDER BY id DESC LIMIT 20"
# What a live venue whose account has sections last said of them (written when it changes).
_FUNDS = f"SELECT {PROBE} venue_funds FROM engine_state WHERE id = 1"
_RUNS = f"""SELECT {PROBE} (SELECT MAX(id) FROM strategy_runs), (SELECT COUNT(*) FROM strategy_runs),
    (SELECT json_group_array(json_array(id, progress, events, pid, created_at)) FROM strategy_runs
     WHERE status = 'running')"""


def _rows(db: Database, sql: str, params: dict[str, Any] | None = None) -> tuple[tuple[Any, ...], ...]:
    with db.read() as conn:
        return tuple(tuple(row) for row in conn.execute(text(sql), params or {}))


def engine(db: Database) -> Hashable:
    """The engine's row as the pages show it: its state, mode, latch, breakers, venue conditions (a
    sectioned account's funds among them), and whether its heartbeat is fresh and its passes keep up
    (their ages, which move every beat, left out)."""
    status = queries.engine_status(db)
    steady = dataclasses.replace(status, heartbeat_age_s=None, pass_age_s=None, data_age_ms=None)
    return (repr(steady), status.heartbeat_stale, status.cannot_decide, desk_state.desk_state(status),
            _rows(db, _FUNDS))


def ledger(db: Database) -> Hashable:
    """Orders, fills, positions, cash and valuations, and the marks of what is held."""
    return _rows(db, _LEDGER) + _rows(db, _MARKS)


def recent_orders(db: Database, *, now: int | None = None) -> Hashable:
    """How many orders the last minute holds (the Risk page's rate): it falls as time passes."""
    return _rows(db, _RECENT_ORDERS, {"since": (now_ms() if now is None else now) - 60_000})


def config(db: Database) -> Hashable:
    return _rows(db, _CONFIG)


def commands(db: Database) -> Hashable:
    return _rows(db, _COMMANDS)


def alerts(db: Database) -> Hashable:
    return _rows(db, _ALERTS)


def backtests(db: Database) -> tuple[int | None, int, list[tuple[int, int, int, int | None, int]]]:
    """The newest run, how many there are, and each running one: (id, progress, events, pid, created_at)."""
    ((newest, count, running),) = _rows(db, _RUNS)
    return newest, count, [tuple(run) for run in json.loads(running or "[]")]


def desk(db: Database) -> Hashable:
    """Everything the Overview's and Risk's figures read: the engine, the ledger, the configuration."""
    return engine(db), ledger(db), config(db)


def desk_and_idle(db: Database) -> Hashable:
    """The desk, and why no order works while it trades with none working (the reasons count the
    refusals of the last two minutes: storage/desk/desk_idle.py)."""
    status = queries.engine_status(db)
    idle = queries.idle_reasons(db, status.mode) if desk_state.desk_state(status).trading else []
    return desk(db), tuple(idle)


def desk_and_alerts(db: Database) -> Hashable:
    return desk(db), alerts(db)


def desk_and_rate(db: Database) -> Hashable:
    """The desk, and the orders of the last minute (a count that falls with time)."""
    return desk(db), recent_orders(db)
