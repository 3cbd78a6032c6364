"""Every (from, to) pair of lifecycle states: only the table's transitions are allowed."""

from __future__ import annotations

import itertools

import pytest

from engine.process.lifecycle import ALLOWED, IllegalTransition, State, can_transition, check_transition

EXPECTED_ALLOWED = {
    ("IDLE", "STARTING"), ("IDLE", "STOPPED"), ("IDLE", "KILLED"), ("IDLE", "ERROR"),
    ("STARTING", "RUNNING"), ("STARTING", "PAUSED"), ("STARTING", "STOPPING"),
    ("STARTING", "KILLED"), ("STARTING", "ERROR"),
    ("RUNNING", "PAUSED"), ("RUNNING", "STOPPING"), ("RUNNING", "KILLED"), ("RUNNING", "ERROR"),
    ("PAUSED", "RUNNING"), ("PAUSED", "STOPPING"), ("PAUSED", "KILLED"), ("PAUSED", "ERROR"),
    ("STOPPING", "STOPPED"), ("STOPPING", "KILLED"), ("STOPPING", "ERROR"),
    ("STOPPED", "STARTING"), ("STOPPED", "KILLED"), ("STOPPED", "ERROR"),
    ("KILLED", "STOPPED"),
    ("ERROR", "STARTING"), ("ERROR", "STOPPING"), ("ERROR", "STOPPED"), ("ERROR", "KILLED"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(State, State)))
def test_every_pair(current: State, target: State) -> None:
    allowed = (current.value, target.value) in EXPECTED_ALLOWED
    assert can_transition(current, target) is allowed
    if allowed:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current, target)


def test_kill_reachable_from_every_state_but_itself() -> None:
    assert {s for s in State if State.KILLED in ALLOWED[s]} == set(State) - {State.KILLED}


def test_killed_only_leaves_to_stopped() -> None:
    assert ALLOWED[State.KILLED] == frozenset({State.STOPPED})
