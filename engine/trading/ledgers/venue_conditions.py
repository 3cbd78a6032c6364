"""Every venue condition active now, written for `engine status` and the dashboard to read.

`engine_state.venue_status` holds the venue's phase (ok, maintenance, post-only, rate-limited);
other conditions can hold at the same time and each would otherwise be visible only as an alert
in a list: the venue not answering (`VENUE_UNREACHABLE`), heartbeats not accepted (the dead-man
switch may be about to cancel every quote), the venue warning that our pace would be refused
under its per-signer limits (or a rate-limit header beyond what it can mean, read within bounds), the
desk's own pacing holding requests back, the wallet drifting from the ledger. They are kept here as a JSON
list of {code, since, detail} in `engine_state.venue_conditions`, rewritten only when it changes,
and emptied when the venue connection closes. The venue's warning that our pace would be refused
is also alerted as it begins (`VENUE_RATE_LIMIT_WARNING`): it comes before any refusal. Beside
them, the live venue's per-signer rate-limit tier (`engine_state.venue_tier`), which is no
condition but what the desk paces by.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from engine.execution.bus import EventBus, VenueHealthChanged, VenuePhase
from storage.desk.audit import AlertLevel, raise_alert
from storage.engine_stores import engine_state, trading_writes
from storage.sqlite.db import Database

log = logging.getLogger("engine.trading.core")

VENUE_ALERTS: dict[VenuePhase, tuple[AlertLevel, str, str]] = {
    VenuePhase.MAINTENANCE: ("warning", "VENUE_MAINTENANCE",
                             "the venue's matching engine is restarting: orders are held back and trading "
                             "resumes by itself"),
    VenuePhase.POST_ONLY: ("info", "VENUE_POST_ONLY", "the venue takes only post-only orders for now"),
    VenuePhase.OPEN: ("info", "VENUE_OK", "the venue takes every order again"),
}
UNREACHABLE, HEARTBEATS, RATE_LIMIT_WARNING, BALANCE_DRIFT, FILLS_DARK = (
    "unreachable", "heartbeats_failing", "rate_limit_warning", "balance_drift", "fills_dark")
RATE_LIMIT_HEADER, SELF_PACED = "rate_limit_header_bounded", "held_by_own_pacing"


@dataclass(frozen=True)
class Condition:
    code: str
    since: int | None
    detail: str


# Conditions alerted as they begin (the others are alerted by their own watch, or are the alert's).
ALERTED_CONDITIONS: dict[str, tuple[AlertLevel, str, str]] = {
    RATE_LIMIT_WARNING: ("warning", "VENUE_RATE_LIMIT_WARNING",
                         "the venue answers that requests at the desk's pace would be refused under its per-signer "
                         "rate limits (Poly-RateLimit-Warning): another program on the same wallet, or a lower tier "
                         "than the desk paces by; refusals come next"),
    RATE_LIMIT_HEADER: ("warning", "VENUE_RATE_LIMIT_HEADER",
                        "the venue's rate-limit header says what its bucket cannot hold (engine status says what): "
                        "the desk reads it within the bucket's bounds and keeps trading at its own pace"),
    SELF_PACED: ("warning", "VENUE_SELF_PACED",
                 "orders wait for the desk's own pacing of the venue's per-signer limits (engine status says how "
                 "long): a hold lasts at most 10 s, and an exit is held by a rate limit at most 10 s"),
}


class ConditionBoard:
    def __init__(self, db: Database):
        self.db = db
        self.published: tuple[Condition, ...] | None = None  # None: not written by this process yet
        self.tier: dict[str, object] | None = None  # the tier last written (None: not by this process)

    def publish(self, conditions: list[Condition], tier: dict[str, object] | None = None) -> None:
        current = tuple(conditions)
        tier = tier or {}
        if current == self.published and tier == self.tier:
            return
        before = {c.code for c in self.published or ()}
        with self.db.write() as conn:
            if current != self.published:
                trading_writes.set_venue_conditions(conn, [asdict(c) for c in current])
                for condition in current:
                    alert = ALERTED_CONDITIONS.get(condition.code)
                    if alert is not None and condition.code not in before:
                        raise_alert(conn, level=alert[0], source="venue", code=alert[1], message=alert[2])
            if tier != self.tier:
                trading_writes.set_venue_tier(conn, tier)
        self.published, self.tier = current, tier

    def clear(self) -> None:
        self.publish([])

    def listen(self, bus: EventBus) -> None:
        bus.subscribe(VenueHealthChanged, self.venue_phase_changed)

    def venue_phase_changed(self, change: VenueHealthChanged) -> None:
        """Persist whether the venue takes orders (the dashboard's banner) and tell the operator
        when a restart begins and ends: maintenance, never an error."""
        with self.db.write() as conn:
            engine_state.set_venue_status(conn, change.phase.value, change.at_ms, change.detail)
            alert = VENUE_ALERTS.get(change.phase)
            if alert is not None:
                raise_alert(conn, level=alert[0], source="venue", code=alert[1], message=f"{alert[2]}: {change.detail}")
        log.warning("venue status", extra={"venue_status": change.phase.value, "detail": change.detail})


def live_conditions(*, unreachable_since: int | None, alert_after_s: int, heartbeats: Any, signer: Any,
                    drift: int | None, drift_since: int | None, now: int, fills_dark_since: int | None = None,
                    fills_dark_s: int = 0) -> list[Condition]:
    """The conditions of a live venue. `heartbeats` is the adapter's HeartbeatChain (or None),
    `signer` its SignerLimits (or None); `drift` the confirmed collateral drift in micro-pUSD."""
    out = []
    if unreachable_since is not None and now - unreachable_since >= alert_after_s * 1000:
        out.append(Condition(UNREACHABLE, unreachable_since,
                             f"no answer from the venue for over {alert_after_s} s (timeouts, network or "
                             "server errors)"))
    failing = getattr(heartbeats, "failing_since_ms", None)
    if failing is not None and now - failing >= 1000 * max(1.0, getattr(heartbeats, "interval_s", 5)):
        out.append(Condition(HEARTBEATS, failing, "heartbeats are not being accepted: the venue cancels every "
                             f"resting order ~10 s after the last one ({heartbeats.last_error})"))
    warned = getattr(signer, "warning_since_ms", None)
    if warned is not None:
        out.append(Condition(RATE_LIMIT_WARNING, warned, "the venue warns that requests at this pace will be "
                             "refused once its per-signer limits are enforced"))
    unbounded = getattr(signer, "unbounded_since_ms", None)
    if unbounded is not None:
        out.append(Condition(RATE_LIMIT_HEADER, unbounded, f"the venue said {signer.unbounded_said}"))
    held = signer.held_back() if callable(getattr(signer, "held_back", None)) else None
    if held is not None:
        out.append(Condition(SELF_PACED, held[0], held[1]))
    if fills_dark_s > 0 and fills_dark_since is not None and now - fills_dark_since >= fills_dark_s * 1000:
        out.append(Condition(FILLS_DARK, fills_dark_since, "the user channel, which reports the desk's fills, is "
                             "down (or its missed fills are not read back yet): no order is placed until it is back"))
    if drift:
        out.append(Condition(BALANCE_DRIFT, drift_since,
                             f"the wallet's collateral differs from the ledger by {drift / 1e6:+,.2f} pUSD"))
    return out
