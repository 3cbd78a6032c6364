"""``POST /v1/heartbeats``: a dead-man's switch per API key.

Once a key has sent a heartbeat, missing the next one for ``timeout_s`` cancels
all of that key's open orders and ends the session; the stale id is then refused
("Invalid Heartbeat ID") so the client knows it must start over with an empty id.
While the matching engine restarts (maintenance, HTTP 425) nobody can send one, so
the timers stand still and start again, with a full timeout, when it answers again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable


class InvalidHeartbeat(ValueError):
    pass


@dataclass
class _Session:
    heartbeat_id: str
    timer: asyncio.TimerHandle | None


class Heartbeats:
    def __init__(self, timeout_s: float, on_expire: Callable[[str], None], new_id: Callable[[], str],
                 paused: Callable[[], bool] = lambda: False) -> None:
        self.timeout_s = timeout_s
        self.on_expire = on_expire
        self.new_id = new_id
        self.paused = paused  # asked when a timer fires: maintenance may have begun a moment ago
        self.sessions: dict[str, _Session] = {}
        self.suspended = False

    def beat(self, owner: str, heartbeat_id: str | None) -> str:
        """Register a heartbeat; returns the id the client must send next time."""
        current = self.sessions.get(owner)
        if heartbeat_id and (current is None or heartbeat_id != current.heartbeat_id):
            raise InvalidHeartbeat("Invalid Heartbeat ID")
        if current is not None and current.timer is not None:
            current.timer.cancel()
        hb_id = current.heartbeat_id if current is not None else self.new_id()
        self.sessions[owner] = _Session(hb_id, self._arm(owner))
        return hb_id

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
        self.on_expire(owner)

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
