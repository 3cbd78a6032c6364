"""A failure budget for the password, shared by every browser session of the dashboard process.

Each session already waits a second after a wrong password, but a guesser with many sessions
is not slowed by that. So the process counts failures over a window: the first few are free,
then each failure locks the form for all sessions, doubling up to a cap. The cap is short on
purpose: a guesser cannot lock the operator out for more than half a minute. A burst of failures
is raised once per window as an audited alert, so the operator hears about it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 300.0  # failures older than this are forgotten
FREE_FAILURES = 5  # typos: no lock before this many in the window
MAX_LOCK_S = 30.0  # the longest anyone (the operator too) waits
BURST = 10  # failed or locked-out attempts in the window that raise an alert


class LoginGuard:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()  # sessions run in their own threads
        self._failures: deque[float] = deque()
        self._blocked: deque[float] = deque()  # attempts refused while locked (no password check)
        self._locked_until = 0.0
        self._alerted_at: float | None = None

    def wait_s(self) -> float:
        """Seconds until a password may be tried again (0: now)."""
        with self._lock:
            return max(0.0, self._locked_until - self.clock())

    def failed(self) -> bool:
        """Count a wrong password; True when this attempt completes a burst worth an alert."""
        with self._lock:
            now = self._forget(self.clock())
            self._failures.append(now)
            count = len(self._failures)
            if count > FREE_FAILURES:
                self._locked_until = now + min(MAX_LOCK_S, 2.0 ** (count - FREE_FAILURES))
            return self._burst(now)

    def blocked(self) -> bool:
        """Count an attempt refused during a lock; True when it completes a burst worth an alert."""
        with self._lock:
            now = self._forget(self.clock())
            self._blocked.append(now)
            return self._burst(now)

    def failures(self) -> int:
        """Failed and locked-out attempts in the window."""
        with self._lock:
            return len(self._failures) + len(self._blocked)

    def _forget(self, now: float) -> float:
        for attempts in (self._failures, self._blocked):
            while attempts and now - attempts[0] > WINDOW_S:
                attempts.popleft()
        return now

    def _burst(self, now: float) -> bool:
        burst = (len(self._failures) + len(self._blocked) >= BURST
                 and (self._alerted_at is None or now - self._alerted_at > WINDOW_S))
        if burst:
            self._alerted_at = now
        return burst

    def succeeded(self) -> None:
        """The right password: the count starts again (the alert, if any, stays)."""
        with self._lock:
            self._failures.clear()
            self._blocked.clear()
            self._locked_until = 0.0
