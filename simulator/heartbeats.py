"""``POST /v1/heartbeats``: a dead-man's switch per API key.

Once a key has sent a heartbeat, missing the next one for ``timeout_s`` cancels
all of that key's open orders and ends the session; the stale id is then refused
("Invalid Heartbeat ID") so the client knows it must start over with an empty id.
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
    timer: asyncio.TimerHandle


class Heartbeats:
    def __init__(self, timeout_s: float, on_expire: Callable[[str], None], new_id: Callable[[], str]) -> None:
        self.timeout_s = timeout_s
        self.on_expire = on_expire
        self.new_id = new_id
        self.sessions: dict[str, _Session] = {}

    def beat(self, owner: str, heartbeat_id: str | None) -> str:
        """Register a heartbeat; returns the id the client must send next time."""
        current = self.sessions.get(owner)
        if heartbeat_id and (current is None or heartbeat_id != current.heartbeat_id):
            raise InvalidHeartbeat("Invalid Heartbeat ID")
        if current is not None:
            current.timer.cancel()
        loop = asyncio.get_running_loop()
        hb_id = current.heartbeat_id if current is not None else self.new_id()
        timer = loop.call_later(self.timeout_s, self._expire, owner)
        self.sessions[owner] = _Session(hb_id, timer)
        return hb_id

    def _expire(self, owner: str) -> None:
        self.sessions.pop(owner, None)
        self.on_expire(owner)

    def stop(self) -> None:
        for session in self.sessions.values():
            session.timer.cancel()
        self.sessions.clear()
