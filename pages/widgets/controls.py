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
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from storage.commands import CommandRow, new_idempotency_key, post_command
from storage import queries
from storage.db import Database

from pages.widgets.common import ACTOR, settings

DEBOUNCE_S = 2.0
ANSWER_WAIT_S = 4.0  # a few seconds: the engine answers a command within a tick or two
ANSWER_POLL_S = 0.05
_SLOTS = "command_keys"


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
    """Queue a command once per press (audited by storage.commands), expiring after
    COMMAND_TTL_SECONDS as the CLI's commands do.

    `slot` separates presses that must not collapse into each other (cancelling two
    different orders); it defaults to the kind.
    """
    now = time.time()
    slot = slot or kind
    key, posted_at = _key_for(slot, now)
    row = post_command(
        db, kind, payload or {}, actor=ACTOR, idempotency_key=key, ttl_s=settings().command_ttl_s
    )
    st.session_state[_SLOTS][slot] = (key, posted_at if posted_at is not None else now)
    st.session_state["last_command"] = {"id": row.id, "kind": kind}
    return row


@dataclass(frozen=True)
class Answer:
    """What became of one posted command, in words the operator reads."""

    command_id: int
    kind: str
    state: Literal["done", "failed", "queued"]
    message: str
    result: str | None = None


def wait_for_answer(db: Database, command_id: int, kind: str, *, wait_s: float = ANSWER_WAIT_S) -> Answer:
    """Poll the command's row until the engine finishes it or `wait_s` passes."""
    deadline = time.monotonic() + wait_s
    found = queries.command_status(db, command_id)
    while (found is None or found["status"] not in ("done", "failed", "expired")) and time.monotonic() < deadline:
        time.sleep(ANSWER_POLL_S)
        found = queries.command_status(db, command_id)
    if found is not None and found["status"] == "done":
        return Answer(command_id, kind, "done", f"{kind} done (command #{command_id}).", found.get("result"))
    if found is not None and found["status"] in ("failed", "expired"):
        reason = found.get("error") or found["status"]
        return Answer(command_id, kind, "failed", f"{kind} {found['status']} (command #{command_id}): {reason}")
    return Answer(command_id, kind, "queued",
                  f"{kind} queued (command #{command_id}): the engine has not answered yet. It runs when the "
                  "engine picks it up, or expires after COMMAND_TTL_SECONDS.")


def post_and_wait(
    db: Database, kind: str, payload: dict[str, Any] | None = None, *, slot: str | None = None,
    wait_s: float = ANSWER_WAIT_S,
) -> Answer:
    """Post a command (see `post`) and wait, bounded, for the engine's answer."""
    row = post(db, kind, payload, slot=slot)
    if row.finished:  # a repeated press within DEBOUNCE_S returns the first command's row
        return wait_for_answer(db, row.id, kind, wait_s=0)
    return wait_for_answer(db, row.id, kind, wait_s=wait_s)


def remember_answer(answer: Answer, key: str = "answer") -> None:
    """Keep an answer for `show_answer` on the next run (a dialog closes with st.rerun)."""
    st.session_state[key] = answer


def show_answer(key: str = "answer") -> None:
    """Show (once) the answer a previous run kept: green done, red failed, amber queued."""
    answer: Answer | None = st.session_state.pop(key, None)
    if answer is None:
        return
    if answer.state == "done":
        st.success(answer.message, icon=":material/check_circle:")
    elif answer.state == "failed":
        st.error(answer.message, icon=":material/error:")
    else:
        st.warning(answer.message, icon=":material/schedule:")
