"""The watchdog: a supervisord event listener (`python -m engine watchdog`) that says, through the
configured notification channels, what the engine cannot say itself: that it died, that
supervisord gave up restarting it, or that its heartbeat stalled; and, once, that it is back.

It lives outside the engine on purpose: a dead or frozen engine sends nothing. supervisord tells
it of every process state change and, each minute, the time (TICK_60); it reads the heartbeat
from SQLite with the standard library (read-only, the engine stays the only writer) and delivers
with apprise as the engine's notifier does, secrets redacted from whatever it logs. One outage is
reported once (a stall that follows an exit is the same outage) and once more when the heartbeat
is fresh again. Its stdout is supervisord's protocol channel; its log goes to stderr.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from contracts.settings import Settings
from engine.notify.direct import log_line

ENGINE = "engine"
STALE_ENV = "WATCHDOG_HEARTBEAT_S"
DEFAULT_STALE_S = 120
Message = tuple[str, str, str]  # title, body, level


@dataclass
class Watch:
    """What has been said of the engine so far, and what an event makes it say next."""

    stale_s: float
    heartbeat_age: Callable[[], float | None]
    down: str | None = None  # why it was reported down; None while it is up
    gave_up: bool = False

    def on_event(self, name: str, fields: dict[str, str]) -> list[Message]:
        if name.startswith("TICK_"):
            return self._on_tick()
        if fields.get("processname") != ENGINE:
            return []
        if name == "PROCESS_STATE_EXITED":
            how = "as asked" if fields.get("expected") == "1" else "unexpectedly"
            return self._down(f"The engine (pid {fields.get('pid', '?')}) exited {how}; supervisord restarts it. "
                              "Its orders rest at the venue meanwhile (the venue's heartbeat cancels them if it "
                              "stays away). See var/log/engine.log.")
        if name == "PROCESS_STATE_FATAL" and not self.gave_up:
            self.gave_up = True
            self.down = self.down or "fatal"
            return [("Desk engine: supervisord gave up", "The engine failed to start again repeatedly and "
                     "supervisord stopped trying. Read var/log/engine.log, fix the cause, then "
                     "`supervisorctl -c supervisord.conf start engine`.", "critical")]
        return []

    def _on_tick(self) -> list[Message]:
        age = self.heartbeat_age()
        if age is None:
            return []  # no engine has ever run on this database: nothing to miss yet
        if age > self.stale_s:
            return self._down(f"The engine's heartbeat is {age:,.0f} s old (the watchdog's threshold is "
                              f"{self.stale_s:,.0f} s): it is frozen or not running. See var/log/engine.log.")
        if self.down is not None:
            self.down, self.gave_up = None, False
            return [("Desk engine back", f"The engine's heartbeat is fresh again ({age:,.0f} s old).", "info")]
        return []

    def _down(self, why: str) -> list[Message]:
        if self.down is not None:
            return []  # one outage, one message
        self.down = why
        return [("Desk engine down", why, "critical")]


def stale_after(raw: str | None) -> float:
    """WATCHDOG_HEARTBEAT_S: seconds of heartbeat age that mean the engine is gone (30 to 3,600)."""
    if raw is None or not raw.strip():
        return DEFAULT_STALE_S
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{STALE_ENV}={raw!r} is not a number of seconds (30 to 3600)") from None
    if not 30 <= value <= 3600:
        raise ValueError(f"{STALE_ENV}={raw!r} is out of range: 30 to 3600 seconds")
    return value


def heartbeat_reader(db_path: Path) -> Callable[[], float | None]:
    def age() -> float | None:
        from storage.desk.desk_status import engine_status

        if not db_path.exists():
            return None
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            return engine_status(conn, db_path).heartbeat_age_s
        finally:
            conn.close()
    return age


def run(settings: Settings, stale_s: float) -> int:
    """Listen for supervisord's events until stdin closes."""
    from supervisor import childutils

    from contracts.redaction import RedactingFilter
    from contracts.settings import secret_values

    redact = RedactingFilter(secret_values(settings)).redact
    deliver = deliverer(settings, redact)
    watch = Watch(stale_s, heartbeat_reader(settings.db_path))
    log_line(f"watchdog listening: engine heartbeat threshold {stale_s:,.0f} s, "
         f"{len(settings.notify_urls)} notification destination(s)")
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        try:
            fields, _ = childutils.eventdata(payload + "\n")
            for title, body, level in watch.on_event(headers.get("eventname", ""), fields):
                deliver(title, body, level)
        except Exception as exc:  # a watchdog that dies of one bad event watches nothing
            log_line(f"event {headers.get('eventname')} not handled: {redact(str(exc))[:300]}")
        childutils.listener.ok(sys.stdout)


def deliverer(settings: Settings, redact: Callable[[str], str]) -> Callable[[str, str, str], None]:
    from engine.notify.direct import deliver_to

    return deliver_to([url.reveal() for url in settings.notify_urls], redact)
