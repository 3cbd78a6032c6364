"""Whether the venue takes orders now: open, restarting (HTTP 425), post-only only, or
rate-limited (HTTP 429 with Retry-After).

The weekly matching-engine restart answers 425 for ~90 s, then accepts only post-only
orders for ~2 minutes. That is maintenance, not failure: nothing counts toward a breaker,
placements the venue would refuse are held back with a reason, resting quotes stay, and
trading resumes by itself. While restarting, a cheap probe asks the venue every few
seconds (or after its Retry-After) whether it is back. Each phase starts on the venue's own
word: a 425 starts maintenance, a post-only refusal the post-only phase; an answer after a
425 is the venue open again (a stray 425 must not cost two minutes of takes). A rate limit holds
placements back for the venue's Retry-After (at most the venue's longest window, as the adapter reads
it), but an exit, a sell of what the desk holds, at most EXIT_HOLD_MS: then it goes, and the venue's
own answer decides again.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.domain import Side
from engine.execution.bus import EventBus, VenueHealthChanged, VenuePhase
from engine.execution.planner import OrderSpec
from engine.venues.base import VenueBusy

POST_ONLY_MS = 120_000  # the venue's documented post-only phase after a restart
PROBE_MS = 5_000  # how often to ask a restarting venue whether it is back
RATE_LIMIT_MS = 1_000  # a 429 without Retry-After
EXIT_HOLD_MS = 10_000  # the longest a rate limit holds an exit (a sell) back (docs/going-live.md)


# Reason codes for placements held back (the risk gate's decisions log shows them).
HELD_BACK = {
    VenuePhase.MAINTENANCE: "VENUE_MAINTENANCE",
    VenuePhase.POST_ONLY: "VENUE_POST_ONLY",
    VenuePhase.RATE_LIMITED: "VENUE_RATE_LIMITED",
}


class VenueHealth:
    def __init__(self, clock: Callable[[], int], bus: EventBus):
        self.clock = clock
        self.bus = bus  # told of each change of phase (VenueHealthChanged)
        self.phase = VenuePhase.OPEN
        self.until_ms = 0  # POST_ONLY and RATE_LIMITED end then
        self.since_ms = 0  # when the phase began
        self.next_probe_ms = 0
        self.unreachable_since: int | None = None  # the first failure with no answer since

    # -- what the venue said -----------------------------------------------------------

    def busy(self, exc: VenueBusy) -> None:
        now = self.clock()
        self.unreachable_since = None  # it answered, if only to say "not now"
        wait_ms = int((exc.retry_after_s or 0) * 1000)
        if exc.maintenance:
            self.next_probe_ms = now + max(PROBE_MS, wait_ms)
            self._move(VenuePhase.MAINTENANCE, str(exc), now)
        elif self.phase is not VenuePhase.MAINTENANCE:
            self.until_ms = max(self.until_ms, now + (wait_ms or RATE_LIMIT_MS))
            self._move(VenuePhase.RATE_LIMITED, str(exc), now)

    def failed(self) -> None:
        """A call got no answer (a timeout, the network, a 5xx): unreachable since when?"""
        if self.unreachable_since is None:
            self.unreachable_since = self.clock()

    def answered(self) -> None:
        """A trading endpoint answered normally: a restart is over, and an elapsed rate limit
        ends. The venue is taken as open again: only its own post-only refusal starts a
        post-only phase (`post_only_mode`). Assuming one here let a stray 425 after a window
        hold every fill-and-kill (exits, flatten, momentum) back for two minutes, again and again."""
        now = self.clock()
        self.unreachable_since = None
        if self.phase is VenuePhase.MAINTENANCE:
            self._move(VenuePhase.OPEN, "the venue answers again after its restart", now)
        else:
            self._expire(now)

    def post_only_mode(self, message: str) -> None:
        """The venue refused a non-post-only order because it is in its post-only phase."""
        now = self.clock()
        if self.phase is not VenuePhase.POST_ONLY:
            self.until_ms = now + POST_ONLY_MS
            self._move(VenuePhase.POST_ONLY, message, now)

    # -- what the executor may do ------------------------------------------------------

    def holds_back(self, spec: OrderSpec) -> str | None:
        """The reason code to hold this placement back now, or None to send it."""
        now = self.clock()
        self._expire(now)
        if self.phase is VenuePhase.POST_ONLY and spec.post_only:
            return None
        if self.phase is VenuePhase.RATE_LIMITED and spec.side is Side.SELL and now - self.since_ms >= EXIT_HOLD_MS:
            return None
        return HELD_BACK.get(self.phase)

    def wants_probe(self) -> bool:
        return self.phase is VenuePhase.MAINTENANCE and self.clock() >= self.next_probe_ms

    def _expire(self, now: int) -> None:
        if self.phase in (VenuePhase.POST_ONLY, VenuePhase.RATE_LIMITED) and now >= self.until_ms:
            self._move(VenuePhase.OPEN, "the venue takes every order again", now)

    def _move(self, phase: VenuePhase, detail: str, now: int) -> None:
        if phase is self.phase:
            return
        self.phase, self.since_ms = phase, now
        self.bus.publish(VenueHealthChanged(phase, detail, now))
