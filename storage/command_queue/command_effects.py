"""A command's effect, recorded in the same transaction as the effect itself.

The engine applies one command at a time (engine/process/commands.py) and marks which one with
`applying`. Every write that changes something for the operator on its behalf — an order's
intent row, a cancel sent, a lifecycle state saved — calls `note` inside its own transaction,
which appends to the command row's `result` (`{"applied": [...]}`) while it is still `claimed`.
A crash can then never leave an applied command reading "expired": at start-up a claimed
command with an effect is closed as done, with what it did and a note that it was not finished
(`close_interrupted`); one with none is expired, never replayed, as before. An operator who
reads "expired" may safely post it again; one who reads "done" must not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, text

# The command this task is applying (copied into tasks it starts: long-lived tasks are started
# in a fresh context, so they are never taken for the command that happened to start them).
_APPLYING: ContextVar[int | None] = ContextVar("applying_command", default=None)
INTERRUPTED_NOTE = ("the engine stopped before finishing this command; what it had done is listed under "
                    "'applied' (see the Orders page for the orders' outcome). It was not replayed: do not post "
                    "it again without checking")


@contextmanager
def applying(command_id: int) -> Iterator[None]:
    token = _APPLYING.set(command_id)
    try:
        yield
    finally:
        _APPLYING.reset(token)


def current() -> int | None:
    return _APPLYING.get()


def note(conn: Connection, effect: dict[str, Any]) -> None:
    """Record `effect` on the command being applied, in the caller's transaction (nothing when
    no command is being applied: a strategy's own orders are nobody's command)."""
    command_id = _APPLYING.get()
    if command_id is None:
        return
    conn.execute(text("""UPDATE commands SET result = json_insert(COALESCE(result, '{"applied": []}'),
                                                                 '$.applied[#]', json(:effect))
                         WHERE id = :id AND status = 'claimed'"""),
                 {"effect": json.dumps(effect, sort_keys=True, default=str), "id": command_id})


def close_interrupted(conn: Connection, now: int) -> list[tuple[int, str]]:
    """At start-up, before stale claims are expired: claimed commands that had taken effect are
    done, with what they did and why they did not finish. Returns (id, kind) of each."""
    rows = conn.execute(text("""UPDATE commands SET status = 'done', finished_at = :now,
                                    result = json_set(result, '$.note', :note)
                                WHERE status = 'claimed' AND result IS NOT NULL AND json_valid(result)
                                RETURNING id, kind"""), {"now": now, "note": INTERRUPTED_NOTE}).all()
    return [(int(r[0]), str(r[1])) for r in rows]
