"""From alerts and trade events to queued messages, channel by channel.

The operator's choices (contracts/notify_choices.py) say which channel hears of which
event for which strategy; the rules (engine/notify/policy.py) which alerts notify at all. On each
channel, a message over the hourly cap goes to that channel's digest (engine/notify/digest.py)
instead of being dropped. The apprise queue is drained by the notifier's own thread: while it is
full, what comes next waits unread (in `alerts` or `notify_events`). The Telegram queue is
drained by the bot, another process that may be stopped: while it is full, what does not fit
goes to the Telegram digest, so a stopped bot never holds up the other channel.

Every function runs inside the caller's write transaction, which also moves the cursors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from contracts.notify_choices import Choices
from engine.notify import digest, policy
from engine.notify import trade_events as events
from engine.notify.policy import Rules, Verdict
from storage.engine_stores import notify_sources, notify_store

QUEUE_MAX = 50  # messages waiting per channel before the notifier stops reading (apprise) or digests (telegram)
APPRISE = "apprise"


@dataclass
class Intake:
    channels: frozenset[str]  # those configured in this process's settings
    host: str
    redact: Callable[[str], str]
    held: dict[str, int] = field(default_factory=dict)  # repeats and stale alerts, noted in the next message

    def apprise_full(self, conn: Connection, chosen: frozenset[str]) -> bool:
        return APPRISE in chosen & self.channels and notify_store.queued_count(conn, APPRISE) >= QUEUE_MAX

    def route(self, conn: Connection, now: int, rules: Rules, chosen: frozenset[str], *, event: str, strategy: str,
              verdict: Callable[[int], Verdict], message: tuple[str, str], level: str, kind: str, line: str,
              alert_id: int | None = None, dedup_key: str | None = None) -> int:
        """Queue the message on each chosen channel, or hold it for that channel's digest when the
        channel is over its cap (or, for Telegram, its queue is full). Returns how many were queued."""
        queued = 0
        title, body = (self.redact(part) for part in message)
        for channel in sorted(chosen & self.channels):
            over = verdict(notify_store.sent_since(conn, now - policy.HOUR_MS, channel)) is Verdict.RATE_CAPPED
            if over or (channel != APPRISE and notify_store.queued_count(conn, channel) >= QUEUE_MAX):
                notify_store.hold(conn, channel=channel, event=event, strategy=strategy, line=self.redact(line),
                                  now=now)
                continue
            notify_store.enqueue(conn, now, kind=kind, level=level, title=title, body=body, alert_id=alert_id,
                                 dedup_key=dedup_key, channel=channel)
            queued += 1
        return queued


def take_alerts(intake: Intake, conn: Connection, now: int, rules: Rules, choices: Choices, cursor: int,
                batch: int) -> int:
    """Judge new alerts and queue them; returns the new cursor (alerts past it wait unread)."""
    chosen = choices.channels("alert")
    for alert in (policy.AlertRow(*row) for row in notify_sources.alerts_after(conn, cursor, batch)):
        if intake.apprise_full(conn, chosen):
            break
        key = policy.dedup_key(alert.code, alert.message, alert.subject)
        repeated = notify_store.repeated(conn, key, now - rules.dedup_ms)

        def verdict(sent: int, alert: policy.AlertRow = alert, repeated: bool = repeated) -> Verdict:
            return policy.judge(alert, rules, now=now, repeated=repeated, sent_last_hour=sent)

        first = verdict(0)
        if first is Verdict.SEND and chosen & intake.channels:
            line = f"{alert.level.upper()} {alert.code}: {' '.join(alert.message.split())}"
            sent = intake.route(conn, now, rules, chosen, event="alert", strategy=digest.ALL_STRATEGIES,
                                verdict=verdict, message=policy.alert_message(alert, intake.host, intake.held),
                                level=alert.level, kind="alert", line=line, alert_id=alert.id, dedup_key=key)
            if sent:
                intake.held = {}
        elif first in policy.HELD_BACK:
            name = policy.held_back_key(alert, first)
            intake.held[name] = intake.held.get(name, 0) + 1
        cursor = alert.id
    return cursor


def take_events(intake: Intake, conn: Connection, now: int, rules: Rules, choices: Choices, cursor: int,
                batch: int) -> int:
    """Queue the trade events the operator chose; returns the new cursor."""
    facts, end = events.new_facts(conn, cursor, batch, intake.host)
    for fact in facts:
        chosen = frozenset().union(*(choices.channels(e, fact.strategy) for e in fact.events))
        if intake.apprise_full(conn, chosen):
            return fact.id - 1
        if now - fact.at > policy.STALE_MS:
            if chosen & intake.channels:
                intake.held[policy.STALE_KEY] = intake.held.get(policy.STALE_KEY, 0) + 1
            continue
        intake.route(conn, now, rules, chosen, event=fact.event, strategy=fact.strategy,
                     verdict=lambda sent: Verdict.RATE_CAPPED if sent >= rules.max_per_hour else Verdict.SEND,
                     message=(fact.title, fact.body), level=fact.level, kind="event", line=fact.line)
    return end


def flush_digests(intake: Intake, conn: Connection, now: int, rules: Rules, wait_ms: int) -> int:
    """Queue a digest on each channel whose oldest held message has waited long enough."""
    sent = 0
    for channel in sorted(intake.channels):
        rows = digest.due(conn, channel, now, wait_ms)
        if not rows:
            continue
        title, body = digest.message(rows, intake.host, rules.max_per_hour, now)
        notify_store.enqueue(conn, now, kind="digest", level="info", title=intake.redact(title),
                             body=intake.redact(body), channel=channel)
        notify_store.clear_digest(conn, channel)
        sent += 1
    return sent
