"""``POST /v1/heartbeats``: a dead-man's switch per API key, as the venue runs it.

A chain starts with an empty id. Every accepted heartbeat answers with a *new* id, the one
the next send must carry, and pushes the key's deadline ``timeout_s`` out. A send with any
other id while the chain lives (a stale id, or ``""`` trying to start afresh) is refused
``400 {"error_msg": "Invalid Heartbeat ID", "heartbeat_id": <expected>}`` and does not move
the deadline. When the deadline passes, every open order of the key is cancelled and the
chain ends; a send with an old id is then refused with ``heartbeat_id: ""`` (start a new
chain). While the matching engine restarts (maintenance, HTTP 425) nobody can send one, so
the timers stand still and start again, with a full timeout, when it answers again.

Per key it counts heartbeats accepted, refused as stale, chains that lapsed, and the orders
the switch cancelled (``GET /_sim/heartbeats``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass

INVALID_HEARTBEAT = "Invalid Heartbeat ID"


class InvalidHeartbeat(ValueError):
    """A send the chain refuses; ``expected`` is the id it wants ("" = start a new chain)."""

    def __init__(self, expected: str) -> None:
        super().__init__(INVALID_HEARTBEAT)
        self.expected = expected


@dataclass
class HeartbeatStats:
    accepted: int = 0
    refused_stale: int = 0
    answers_dropped: int = 0  # processed, but the answer was lost on the way (a fault)
    chains_lapsed: int = 0
    dead_man_cancelled: int = 0  # orders the switch cancelled


@dataclass
class _Session:
    expected: str
    timer: asyncio.TimerHandle | None


class Heartbeats:
    def __init__(self, timeout_s: float, on_expire: Callable[[str], int], new_id: Callable[[], str],
                 paused: Callable[[], bool] = lambda: False) -> None:
        """``on_expire(owner)`` cancels the key's open orders and returns how many."""
        self.timeout_s = timeout_s
        self.on_expire = on_expire
        self.new_id = new_id
        self.paused = paused  # asked when a timer fires: maintenance may have begun a moment ago
        self.sessions: dict[str, _Session] = {}
        self.stats: dict[str, HeartbeatStats] = {}
        self.suspended = False

    def beat(self, owner: str, heartbeat_id: str) -> str:
        """Register a heartbeat; returns the id the client must send next time, or raises
        InvalidHeartbeat (the deadline stays where it was)."""
        stats = self.stats.setdefault(owner, HeartbeatStats())
        current = self.sessions.get(owner)
        expected = current.expected if current is not None else ""
        if heartbeat_id != expected:
            stats.refused_stale += 1
            raise InvalidHeartbeat(expected)
        if current is not None and current.timer is not None:
            current.timer.cancel()
        next_id = self.new_id()
        self.sessions[owner] = _Session(next_id, self._arm(owner))
        stats.accepted += 1
        return next_id

    def answer_dropped(self, owner: str) -> None:
        self.stats.setdefault(owner, HeartbeatStats()).answers_dropped += 1

    def report(self) -> dict[str, dict[str, int | bool]]:
        return {owner: {**asdict(stats), "chain_alive": owner in self.sessions}
                for owner, stats in self.stats.items()}

    def _arm(self, owner: str) -> asyncio.TimerHandle | None:
        if self.suspended:
            return None
        return asyncio.get_running_loop().call_later(self.timeout_s, self._expire, owner)

    def _expire(self, owner: str) -> None:
        session = self.sessions.get(owner)
        if self.suspended or self.paused():
            if session is not None:
                session.timer = None  # resume() re-arms it with a full timeout
            return
        self.sessions.pop(owner, None)
        stats = self.stats.setdefault(owner, HeartbeatStats())
        stats.chains_lapsed += 1
        stats.dead_man_cancelled += self.on_expire(owner)

    def suspend(self) -> None:
        """Stop every timer; sessions (and their ids) survive."""
        self.suspended = True
        for session in self.sessions.values():
            if session.timer is not None:
                session.timer.cancel()
                session.timer = None

    def resume(self) -> None:
        """Restart, with a full timeout, every timer that stood still."""
        self.suspended = False
        for owner, session in self.sessions.items():
            if session.timer is None:
                session.timer = self._arm(owner)

    def stop(self) -> None:
        for session in self.sessions.values():
            if session.timer is not None:
                session.timer.cancel()
        self.sessions.clear()
