"""The venue's dead-man switch, kept alive: one heartbeat chain per API key.

The venue answers every accepted heartbeat with the id the *next* one must carry, and cancels
every order of the key when ~10 s pass without an accepted one. A send with any other id while
the chain lives (a stale id, or "" trying to start afresh) is refused
`400 {"error_msg": "Invalid Heartbeat ID", "heartbeat_id": <expected>}` and does not move the
deadline. So:

- a refusal naming an id is answered at once with that id (the chain recovers within the same
  interval, never by restarting it with "");
- a refusal naming "" means the chain is gone (it lapsed: the venue has cancelled the key's
  orders): only then does a new chain start;
- a send with no answer (the answer was lost, or the network failed) may have been processed:
  it is sent again soon with the same id, and the venue's 400, if it moved on, names the id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from engine.venues.polymarket.calls import ClobCaller
from engine.venues.polymarket.client import CallFailure, SignedRequest
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.venues.polymarket.venue")
# After a send with no answer (or a busy venue): try again this soon, well inside the 10 s deadline.
RETRY_S = 0.5
# Two refusals in a row (another process beating on the same key?): pause this long between tries.
CONTENDED_S = 0.25


@dataclass
class ChainStats:
    accepted: int = 0
    recovered: int = 0  # refusals answered with the id the venue named
    restarted: int = 0  # chains started afresh after the venue said the old one was gone
    unanswered: int = 0  # sends that got no answer


class HeartbeatChain:
    def __init__(self, calls: ClobCaller, request: Callable[[str], SignedRequest], interval_s: float, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, clock: Callable[[], int] = now_ms):
        """`request(heartbeat_id)` is the client's POST /v1/heartbeats, signed and unsent: it is sent
        from the event loop, on the connections the decision path's cancels use (a beat every few
        seconds keeps one of them warm)."""
        self.calls = calls
        self.request = request
        self.interval_s = interval_s
        self.sleep = sleep
        self.clock = clock
        self.next_id = ""
        self.stats = ChainStats()
        self.last_accepted_ms: int | None = None
        self.failing_since_ms: int | None = None  # the first failed send since the last accepted one
        self.last_error: str | None = None

    async def run(self) -> None:
        refused_in_a_row = 0
        while True:
            delay = self.interval_s
            try:
                answer = await self.calls.call_on_loop("heartbeat", partial(self.request, self.next_id), retry=False)
                self._accepted(answer)
                refused_in_a_row = 0
            except CallFailure as failure:
                if failure.expected_heartbeat is not None:
                    refused_in_a_row += 1
                    self._refused(failure.expected_heartbeat)
                    delay = 0.0 if refused_in_a_row == 1 else CONTENDED_S
                else:
                    self._failed(failure)
                    # A restart (425) holds the venue's timers too: beat at the usual pace meanwhile.
                    soon = self.interval_s if failure.maintenance else RETRY_S
                    delay = min(self.interval_s, max(soon, failure.retry_after_s or 0.0))
            await self.sleep(delay)

    def _accepted(self, answer: Any) -> None:
        next_id = answer.get("heartbeat_id") if isinstance(answer, dict) else None
        if not isinstance(next_id, str) or not next_id:
            # Without the next id the following send would be refused; the refusal names it.
            log.warning("venue heartbeat answer carried no next id", extra={"answer": str(answer)[:200]})
            next_id = self.next_id
        self.next_id = next_id
        self.stats.accepted += 1
        self.last_accepted_ms = self.clock()
        if self.failing_since_ms is not None:
            log.info("venue heartbeats accepted again")
        self.failing_since_ms = None
        self.last_error = None

    def _refused(self, expected: str) -> None:
        if expected:
            self.stats.recovered += 1
            log.info("venue heartbeat id was stale: continuing the chain with the id the venue named")
        else:
            self.stats.restarted += 1
            log.warning("venue heartbeat chain lapsed: the venue has cancelled this key's orders; starting a "
                        "new chain")
        self.next_id = expected

    def _failed(self, failure: CallFailure) -> None:
        if failure.status is None:
            self.stats.unanswered += 1
        if self.failing_since_ms is None:
            self.failing_since_ms = self.clock()
        self.last_error = str(failure)
        log.warning("venue heartbeat failed; sending again shortly", extra={"error": str(failure)})
