"""The engine's lifecycle: states and the only transitions allowed between them.

Every process begins at IDLE in memory and moves to where the persisted desired state
and kill latch say it should be (STOPPED, KILLED, or STARTING -> RUNNING/PAUSED), so
start-up and crash recovery are the same path through this table.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    IDLE = "IDLE"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    KILLED = "KILLED"
    ERROR = "ERROR"


class Desired(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"


ALLOWED: dict[State, frozenset[State]] = {
    State.IDLE: frozenset({State.STARTING, State.STOPPED, State.KILLED, State.ERROR}),
    State.STARTING: frozenset({State.RUNNING, State.PAUSED, State.STOPPING, State.KILLED, State.ERROR}),
    State.RUNNING: frozenset({State.PAUSED, State.STOPPING, State.KILLED, State.ERROR}),
    State.PAUSED: frozenset({State.RUNNING, State.STOPPING, State.KILLED, State.ERROR}),
    State.STOPPING: frozenset({State.STOPPED, State.KILLED, State.ERROR}),
    State.STOPPED: frozenset({State.STARTING, State.KILLED, State.ERROR}),
    # Only an audited re-arm leaves KILLED, and it lands in STOPPED, never trading.
    State.KILLED: frozenset({State.STOPPED}),
    State.ERROR: frozenset({State.STARTING, State.STOPPING, State.STOPPED, State.KILLED}),
}

# States in which strategies may place orders.
TRADING = frozenset({State.RUNNING})
# States in which the engine holds venue connections and working orders may exist.
ACTIVE = frozenset({State.STARTING, State.RUNNING, State.PAUSED, State.STOPPING})


class IllegalTransition(RuntimeError):
    def __init__(self, current: State, target: State):
        super().__init__(f"cannot go from {current} to {target}")
        self.current = current
        self.target = target


def can_transition(current: State, target: State) -> bool:
    return target in ALLOWED[current]


def check_transition(current: State, target: State) -> None:
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
