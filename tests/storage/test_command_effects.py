"""A command's effect is written in the transaction of the effect itself, so a crash between the
two can never leave an applied command reading "expired" (an operator would post it again and
double the position); a command that did nothing before the crash is expired, never replayed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from storage.command_queue import command_effects
from storage.command_queue.commands import claim_next, expire_stale_claims, finish, get_command, post_command
from storage.sqlite.db import Database, now_ms


def _claimed(db: Database, kind: str, payload: dict) -> int:
    post_command(db, kind, payload, actor="test")
    with db.write() as conn:
        command = claim_next(conn, now_ms())
    assert command is not None
    return command.id


def _restart(db: Database) -> None:
    """What the engine does with claims at start-up (engine/process/runtime.py)."""
    with db.write() as conn:
        command_effects.close_interrupted(conn, now_ms())
        expire_stale_claims(conn, now_ms())


def test_an_applied_command_reads_done_with_what_it_did_after_a_crash(db: Database) -> None:
    applied = _claimed(db, "place_order", {"condition_id": "c", "outcome": "YES", "side": "BUY", "size": 5,
                                           "price": 0.5})
    with command_effects.applying(applied), db.write() as conn:
        conn.execute(text("UPDATE engine_state SET updated_at = 1"))  # stands for the order's intent row
        command_effects.note(conn, {"orders": [41]})
        command_effects.note(conn, {"orders": [42]})
    untouched = _claimed(db, "cancel_order", {"order_id": 7})
    _restart(db)  # the process died: neither was finished
    with db.read() as conn:
        done, expired = get_command(conn, applied), get_command(conn, untouched)
    assert done is not None and done.status == "done" and done.finished_at is not None
    result = json.loads(done.result or "")
    assert result["applied"] == [{"orders": [41]}, {"orders": [42]}] and "not replayed" in result["note"]
    assert expired is not None and expired.status == "expired" and "not replayed" in (expired.error or "")


def test_an_effect_rolled_back_with_its_transaction_is_not_recorded(db: Database) -> None:
    command = _claimed(db, "flatten", {})
    with pytest.raises(RuntimeError), command_effects.applying(command), db.write() as conn:
        command_effects.note(conn, {"orders": [1]})
        raise RuntimeError("the intent commit failed")
    _restart(db)
    with db.read() as conn:
        row = get_command(conn, command)
    assert row is not None and row.status == "expired"  # nothing happened, so nothing is claimed done


def test_outside_a_command_nothing_is_noted_and_a_finished_command_keeps_its_answer(db: Database) -> None:
    command = _claimed(db, "cancel_order", {"order_id": 3})
    with db.write() as conn:
        command_effects.note(conn, {"orders": [9]})  # a strategy's own order: nobody's command
    with command_effects.applying(command), db.write() as conn:
        command_effects.note(conn, {"cancelling": [3]})
        finish(conn, command, ok=False, error="the venue refused the cancel")
        command_effects.note(conn, {"cancelling": [4]})  # after its answer: not the command's any more
    with db.read() as conn:
        row = get_command(conn, command)
    assert row is not None and row.status == "failed"
    assert json.loads(row.result or "") == {"applied": [{"cancelling": [3]}]}  # a failed one keeps what it did
