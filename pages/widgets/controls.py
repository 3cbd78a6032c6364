"""Posting operator commands from the dashboard, with double-click protection.

Each control keeps one idempotency key. A second post of the same kind within
DEBOUNCE_S reuses the key, so the queue collapses it into the first command; after
that window the key rotates and a new press is a new command.

`post_and_wait` then waits (bounded) for the engine's answer, so a page can say what
really happened: done, failed with the engine's reason, or still queued. Never a green
"posted" for a command the engine refused.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from charts import text
from charts.tables import Col
from pages.widgets.common import Answer, actor, remember_answer, settings
from storage.command_queue.commands import CommandRow, new_idempotency_key, post_command
from storage.dashboard_queries import status_queries as queries
from storage.desk import desk_status
from storage.sqlite.db import Database

# The Overview's latest commands.
COMMAND_COLUMNS = {"kind": Col("command"), "status": Col("status"), "created_at": Col("posted", "time"),
                   "latency_ms": Col("latency (ms)", "int"), "error": Col("error", "long"), "actor": Col("by"),
                   "id": Col("id")}
CONTROLS = "controls"  # the Overview's engine controls: their answers show right under them
DEBOUNCE_S = 2.0
ANSWER_WAIT_S = 4.0  # a few seconds: the engine answers a command within a tick or two
ANSWER_POLL_S = 0.05
_SLOTS = "command_keys"


def not_now(kind: str, status: desk_status.EngineStatus) -> str | None:
    """Why an engine control does not apply in this state (its button is disabled, this on hover),
    or None. With no engine to answer, every control applies: the command waits for it."""
    if not status.engine_up:
        return None
    state, latched = status.state, status.kill_latched
    reasons = {
        "start": ("the kill latch is set: re-arm first" if latched else
                  "already running" if state in ("RUNNING", "STARTING") else
                  "paused: Resume continues" if state == "PAUSED" else None),
        "pause": None if state == "RUNNING" else f"nothing to pause: the engine is {state}",
        "resume": None if state == "PAUSED" else f"nothing to resume: the engine is {state}",
        "stop": f"already {state}" if state in ("STOPPED", "IDLE", "STOPPING") else None,
        "rearm": None if latched else "the kill latch is not set: nothing to re-arm",
    }
    return reasons.get(kind)


def wall_s() -> float:
    """Seconds since the epoch, as a press is timed for its debounce (a test holds it still: a loaded
    machine may take longer than DEBOUNCE_S between two runs of a page)."""
    return time.time()


def _key_for(slot: str, now: float) -> tuple[str, float | None]:
    slots: dict[str, tuple[str, float | None]] = st.session_state.setdefault(_SLOTS, {})
    key, posted_at = slots.get(slot, (None, None))
    if key is None or (posted_at is not None and now - posted_at > DEBOUNCE_S):
        key, posted_at = new_idempotency_key(), None
    slots[slot] = (key, posted_at)
    return key, posted_at


def post(
    db: Database, kind: str, payload: dict[str, Any] | None = None, *, slot: str | None = None
) -> CommandRow:
    """Queue a command once per press (audited by storage.command_queue.commands), expiring after
    COMMAND_TTL_SECONDS as the CLI's commands do.

    `slot` separates presses that must not collapse into each other (cancelling two
    different orders); it defaults to the kind.
    """
    now = wall_s()
    slot = slot or kind
    key, posted_at = _key_for(slot, now)
    row = post_command(
        db, kind, payload or {}, actor=actor(), idempotency_key=key, ttl_s=settings().command_ttl_s
    )
    st.session_state[_SLOTS][slot] = (key, posted_at if posted_at is not None else now)
    st.session_state["last_command"] = {"id": row.id, "kind": kind}
    return row


def wait_for_answer(db: Database, command_id: int, kind: str, *, label: str | None = None,
                    wait_s: float | None = None) -> Answer:
    """Poll the command's row until the engine finishes it or `wait_s` passes; stop at once when
    no engine is running (no fresh heartbeat) to answer it."""
    what = label or kind
    deadline = time.monotonic() + (ANSWER_WAIT_S if wait_s is None else wait_s)
    found = queries.command_status(db, command_id)
    while not _finished(found) and time.monotonic() < deadline:
        if not queries.engine_status(db).engine_up:
            return Answer(command_id, kind, "queued",
                          f"{what}: queued (command #{command_id}), but the engine is not running; it runs when "
                          "the engine starts, unless it expires first (COMMAND_TTL_SECONDS).")
        time.sleep(ANSWER_POLL_S)
        found = queries.command_status(db, command_id)
    if found is not None and found["status"] == "done":
        return Answer(command_id, kind, "done", f"{what}: done (command #{command_id}).", found.get("result"))
    if found is not None and found["status"] in ("failed", "expired"):
        reason = text.markdown(found.get("error") or found["status"])  # the engine's words, venue text in them
        return Answer(command_id, kind, "failed", f"{what}: {found['status']} (command #{command_id}): {reason}")
    return Answer(command_id, kind, "queued",
                  f"{what}: queued (command #{command_id}); the engine has not answered yet. It runs when the "
                  "engine picks it up, or expires after COMMAND_TTL_SECONDS.")


def _finished(found: dict[str, Any] | None) -> bool:
    return found is not None and found["status"] in ("done", "failed", "expired")


def post_and_wait(
    db: Database, kind: str, payload: dict[str, Any] | None = None, *, slot: str | None = None,
    label: str | None = None, wait_s: float | None = None,
) -> Answer:
    """Post a command (see `post`) and wait, bounded, for the engine's answer."""
    row = post(db, kind, payload, slot=slot)
    return wait_for_answer(db, row.id, kind, label=label, wait_s=0 if row.finished else wait_s)


def saved_then_reload(db: Database, reload_id: int, *, flash: str, label: str, near: str,
                      waiting: str = "Waiting for the engine to reload its configuration…",
                      holds: str | None = None) -> None:
    """After a configuration save: say what was saved, wait (bounded) for the engine's answer to
    the reload the save posted, keep both for `flash(near=...)` drawn beside the button pressed
    (`holds`: as `remember_answer`), and rerun the page."""
    st.session_state[f"{near}flash"] = flash
    with st.spinner(waiting):
        remember_answer(wait_for_answer(db, reload_id, "reload_config", label=label), key=f"{near}answer",
                        holds=holds)
    st.rerun()


# A lifecycle state as far as an answer to a control is concerned: starting is running, stopping and
# idle are stopped (an answer must not flicker away as the engine settles).
_PHASES = {"STARTING": "RUNNING", "STOPPING": "STOPPED", "IDLE": "STOPPED"}


def engine_phase(status: desk_status.EngineStatus) -> str:
    """What an answer to an engine control (Start, Stop, Kill, …) says of the engine: where it is
    and is asked to be, and the kill latch. "Stop: done" holds while it reads the same, and goes
    once the engine runs again, whoever started it."""
    state = _PHASES.get(status.state, status.state)
    return f"{state}/{status.desired_state}/{'latched' if status.kill_latched else 'armed'}"
