"""Posting operator commands from the dashboard, with double-click protection.

Each control keeps one idempotency key. A second post of the same kind within
DEBOUNCE_S reuses the key, so the queue collapses it into the first command; after
that window the key rotates and a new press is a new command.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from storage.commands import CommandRow, new_idempotency_key, post_command
from storage.db import Database

from pages.widgets.common import ACTOR, settings

DEBOUNCE_S = 2.0
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
