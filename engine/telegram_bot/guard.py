"""What keeps the bot safe, without I/O (each takes an injected clock, in seconds):

- `RateLimit`: at most N commands (and button presses) a minute per chat; the first one over
  the limit in a minute is answered "slow down", the rest get nothing.
- `Confirmations`: a dangerous command is only offered; it runs when its own button is pressed,
  once, in the chat it was offered in, before it expires. A nonce that was used, cancelled,
  expired or never issued (a replayed or forged button) does nothing.
- `Strangers`: a chat not on the allow-list gets no answer at all; the attempt is an alert, at
  most one per chat per ALERT_EVERY_S (the next one counts the attempts in between), so a
  stranger cannot flood the alerts either.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.ratelimit import Window

WINDOW_S = 60.0
ALERT_EVERY_S = 600.0
MAX_STRANGERS = 10_000  # chats remembered for the per-chat alert window; memory stays bounded


class RateLimit:
    """A window of the desk's one rate limiter (engine/ratelimit.py) per chat."""

    def __init__(self, per_minute: int, clock: Callable[[], float]):
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[int, Window] = {}
        self._warned: dict[int, float] = {}

    def check(self, chat_id: int) -> str:
        """"ok" (go ahead), "warn" (refuse, and say so once) or "drop" (refuse silently)."""
        now = self.clock()
        seen = self._seen.get(chat_id)
        if seen is None:
            seen = self._seen[chat_id] = Window(self.per_minute, WINDOW_S)
        if seen.admit(now):
            return "ok"
        if now - self._warned.get(chat_id, float("-inf")) >= WINDOW_S:
            self._warned[chat_id] = now
            return "warn"
        return "drop"


@dataclass
class Pending:
    chat_id: int
    kind: str
    payload: dict[str, Any]
    label: str  # what the button said would happen, e.g. "kill the engine"
    expires_at: float
    message_id: int | None = None


@dataclass
class Confirmations:
    ttl_s: float
    clock: Callable[[], float]
    new_nonce: Callable[[], str] = field(default=lambda: secrets.token_urlsafe(12))
    pending: dict[str, Pending] = field(default_factory=dict)

    def offer(self, chat_id: int, kind: str, payload: dict[str, Any], label: str) -> str:
        nonce = self.new_nonce()
        self.pending[nonce] = Pending(chat_id, kind, payload, label, self.clock() + self.ttl_s)
        return nonce

    def shown(self, nonce: str, message_id: int) -> None:
        if nonce in self.pending:
            self.pending[nonce].message_id = message_id

    def take(self, nonce: str, chat_id: int) -> Pending | None:
        """The command to run now, once; None for anything used, expired, unknown or offered in
        another chat (which leaves it for its own chat)."""
        found = self.pending.get(nonce)
        if found is None or found.chat_id != chat_id:
            return None
        del self.pending[nonce]
        return found if self.clock() < found.expires_at else None

    def expired(self) -> list[Pending]:
        """Offers whose time ran out, removed (the bot edits their messages to say so)."""
        now = self.clock()
        gone = [n for n, p in self.pending.items() if now >= p.expires_at]
        return [self.pending.pop(n) for n in gone]


class Strangers:
    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self._last: dict[int, float] = {}
        self._since: dict[int, int] = {}

    def attempt(self, chat_id: int) -> int | None:
        """Attempts to report now (this one and the unreported ones before it), or None: an alert
        for this chat went out less than ALERT_EVERY_S ago."""
        now = self.clock()
        if chat_id not in self._last and len(self._last) >= MAX_STRANGERS:
            self._forget_quiet(now)
        self._since[chat_id] = self._since.get(chat_id, 0) + 1
        if now - self._last.get(chat_id, float("-inf")) < ALERT_EVERY_S:
            return None
        self._last[chat_id] = now
        return self._since.pop(chat_id)

    def _forget_quiet(self, now: float) -> None:
        """Bounded memory however many strangers write: chats whose last alert is a window old
        (or, failing that, the oldest) are forgotten."""
        quiet = [c for c, at in self._last.items() if now - at >= ALERT_EVERY_S]
        for chat in quiet or sorted(self._last, key=self._last.__getitem__)[: len(self._last) // 2]:
            self._last.pop(chat, None)
            self._since.pop(chat, None)
