"""Reads and writes of the single engine_state row (engine process only)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from storage.command_queue import command_effects
from storage.engine_stores import venue_modes
from storage.sqlite.db import Database, now_ms


@dataclass(frozen=True)
class Snapshot:
    state: str
    desired_state: str
    mode: str
    kill_latched: bool
    kill_reason: str | None
    clean_exit: bool
    crash_count: int
    recent_crashes: list[int]
    last_error: str | None
    # The arming of each venue armed on its own (paper until armed live: set_venue_mode).
    venue_modes: dict[str, str] = field(default_factory=dict)


def load(conn: Connection) -> Snapshot:
    row = conn.execute(text("SELECT * FROM engine_state WHERE id = 1")).mappings().one()
    return Snapshot(
        state=row["state"],
        desired_state=row["desired_state"],
        mode=row["mode"],
        kill_latched=bool(row["kill_latched"]),
        kill_reason=row["kill_reason"],
        clean_exit=bool(row["clean_exit"]),
        crash_count=row["crash_count"],
        recent_crashes=list(json.loads(row["recent_crashes"] or "[]")),
        last_error=row["last_error"],
        venue_modes=venue_modes.modes(conn),
    )


NOTED = ("state", "desired_state", "mode", "kill_latched")  # what a command's effect record says


def save(conn: Connection, **values: Any) -> None:
    if "recent_crashes" in values:
        values["recent_crashes"] = json.dumps(values["recent_crashes"])
    if not all(name.isidentifier() for name in values):  # column names from the engine's code, never input
        raise ValueError(f"not column names: {sorted(values)}")
    assignments = ", ".join(f"{name} = :{name}" for name in sorted(values))
    conn.execute(text(f"UPDATE engine_state SET updated_at = :updated_at, {assignments} WHERE id = 1"),
                 {"updated_at": now_ms(), **values})
    changed = {key: values[key] for key in NOTED if key in values}
    if changed:
        command_effects.note(conn, changed)  # the operator's command (if any) did this, in this transaction


def heartbeat(db: Database, *, data_age_ms: int | None = None, last_pass_at: int | None = None) -> None:
    """The engine is alive; `data_age_ms`: its oldest followed book's age (None: it follows none);
    `last_pass_at`: when its last trading pass completed (None: none yet)."""
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET heartbeat_at = :at, pid = :pid, data_age_ms = :age, "
                          "last_pass_at = :pass WHERE id = 1"),
                     {"at": now_ms(), "pid": os.getpid(), "age": data_age_ms, "pass": last_pass_at})


def record_boot(conn: Connection, *, window_ms: int) -> tuple[Snapshot, bool]:
    """Mark this process as running; count the previous one as a crash if it never exited
    cleanly. Returns the snapshot before boot and whether the last exit was a crash."""
    before = load(conn)
    now = now_ms()
    crashed = not before.clean_exit
    recent = [t for t in before.recent_crashes if now - t <= window_ms]
    if crashed:
        recent.append(now)
    # The pid is left to the heartbeat: a reader seeing this pid then also sees the state the
    # boot reached, never the previous process's.
    save(
        conn,
        started_at=now,
        clean_exit=0,
        crash_count=before.crash_count + int(crashed),
        recent_crashes=recent,
    )
    return load(conn), crashed


# -- the risk breakers' memory on the same row (engine/risk/breakers.py decides; this stores) --------


def risk_memory(conn: Connection) -> Any:
    """(trading_state, its reason, peak_equity, day_start_equity, day_started_at)."""
    return conn.execute(text("""SELECT trading_state, trading_state_reason, peak_equity, day_start_equity,
                                       day_started_at FROM engine_state WHERE id = 1""")).one()


def set_trading_state(conn: Connection, state: str, reason: str | None, now: int) -> None:
    conn.execute(text("""UPDATE engine_state SET trading_state = :s, trading_state_reason = :r,
                             trading_state_at = :now, updated_at = :now WHERE id = 1"""),
                 {"s": state, "r": reason, "now": now})


def set_peak_equity(conn: Connection, peak: int | None) -> None:
    conn.execute(text("UPDATE engine_state SET peak_equity = :peak WHERE id = 1"), {"peak": peak})


def set_day_start(conn: Connection, equity: int | None, at: int | None) -> None:
    conn.execute(text("UPDATE engine_state SET day_start_equity = :day, day_started_at = :at WHERE id = 1"),
                 {"day": equity, "at": at})


def forget_equity_memory(conn: Connection) -> None:
    """The peak and the day's reference start afresh (a mode switch)."""
    conn.execute(text("UPDATE engine_state SET peak_equity = NULL, day_start_equity = NULL, day_started_at = NULL "
                      "WHERE id = 1"))


def set_venue_status(conn: Connection, phase: str, at_ms: int, detail: str) -> None:
    """Whether the venue takes orders (the dashboard's banner), with when and why."""
    conn.execute(text("""UPDATE engine_state SET venue_status = :s, venue_status_at = :at,
                             venue_status_detail = :d WHERE id = 1"""), {"s": phase, "at": at_ms, "d": detail[:500]})


def set_venue_funds(conn: Connection, venue: str, funds_json: str) -> None:
    """One venue's sections as its live ledger last said them (engine/trading/ledgers/venue_funds.py)."""
    conn.execute(text("UPDATE engine_state SET venue_funds = json_set(venue_funds, '$.' || :v, json(:s)) "
                      "WHERE id = 1"), {"v": venue, "s": funds_json})


def venue_funds(conn: Connection) -> dict[str, dict[str, object]]:
    """Every venue's sections as last said ({} when none was)."""
    raw = conn.execute(text("SELECT venue_funds FROM engine_state WHERE id = 1")).scalar()
    try:
        found = json.loads(raw or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in found.items() if isinstance(v, dict)} if isinstance(found, dict) else {}


def set_kalshi_exchange(conn: Connection, state_json: str) -> None:
    """Kalshi's exchange as last read (engine/venues/kalshi/pairs.py): a JSON object."""
    conn.execute(text("UPDATE engine_state SET kalshi_exchange = :s WHERE id = 1"), {"s": state_json})
