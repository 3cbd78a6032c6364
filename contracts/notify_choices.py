"""Which events a trader hears of, for which strategies, on which channel: the one rule the
Settings page edits and the engine's notifier follows.

Stored as one engine setting (`notify_choices`), a JSON object: strategy name (or `*` for
every strategy) -> event -> the channels it goes to, e.g.

    {"*": {"alert": ["apprise", "telegram"], "summary": ["apprise"]},
     "mm-btc": {"fill": ["telegram"], "exit": ["apprise", "telegram"]}}

A strategy's channels for an event are those of `*` and those of its own entry together (so
ticking one strategy adds to what `*` chose; it never silences it). Alerts concern the desk,
not a strategy: they are chosen under `*` only. Which alerts notify at all (levels, muted codes,
repeat window, hourly cap) stays with the other notification settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ALL = "*"
CHANNELS = ("apprise", "telegram")
CHANNEL_LABELS = {"apprise": "NOTIFY_URLS (apprise)", "telegram": "Telegram bot"}
# Trade events: each concerns one strategy's order or fill.
TRADE_EVENTS = ("fill", "entry", "exit", "refused", "venue_cancel")
EVENTS = ("alert", *TRADE_EVENTS, "summary")
EVENT_LABELS = {
    "alert": "alerts",
    "fill": "every fill",
    "entry": "entries (a fill that opens a position)",
    "exit": "exits (a fill that closes a position)",
    "refused": "orders the venue refused",
    "venue_cancel": "orders cancelled by the venue",
    "summary": "the daily summary",
}
GLOBAL_ONLY = frozenset({"alert"})
NAME_CHARS = 64
MAX_ENTRIES = 200
DEFAULT: dict[str, dict[str, list[str]]] = {ALL: {"alert": list(CHANNELS), "summary": list(CHANNELS)}}


class ChoicesError(ValueError):
    """The choices are refused; the message says what to fix."""


@dataclass(frozen=True)
class Choices:
    rules: Mapping[str, Mapping[str, frozenset[str]]]

    def channels(self, event: str, strategy: str | None = None) -> frozenset[str]:
        """Where an event of `strategy` (None: a desk-wide event) goes."""
        chosen = set(self.rules.get(ALL, {}).get(event, frozenset()))
        if strategy is not None and strategy != ALL:
            chosen |= self.rules.get(strategy, {}).get(event, frozenset())
        return frozenset(chosen)

    def any_channel(self, event: str) -> frozenset[str]:
        """Every channel some strategy (or `*`) sends `event` to."""
        return frozenset(c for events in self.rules.values() for c in events.get(event, frozenset()))

    def covers(self, event: str, channel: str, strategy: str) -> bool:
        return channel in self.channels(event, strategy)

    def as_dict(self) -> dict[str, dict[str, list[str]]]:
        out: dict[str, dict[str, list[str]]] = {}
        for name in sorted(self.rules, key=lambda n: (n != ALL, n)):
            events = {e: [c for c in CHANNELS if c in chans] for e, chans in self.rules[name].items() if chans}
            if events:
                out[name] = {e: events[e] for e in EVENTS if e in events}
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"))


def from_mapping(raw: Any) -> Choices:
    """Validate and normalise; ChoicesError names the first thing wrong."""
    if not isinstance(raw, Mapping):
        raise ChoicesError("notification choices must be a JSON object: strategy (or *) -> event -> channels")
    if len(raw) > MAX_ENTRIES:
        raise ChoicesError(f"notification choices: at most {MAX_ENTRIES} strategies")
    rules: dict[str, dict[str, frozenset[str]]] = {}
    for name, events in raw.items():
        if not isinstance(name, str) or not name.strip() or len(name) > NAME_CHARS or not name.isprintable():
            raise ChoicesError(f"notification choices: {str(name)[:70]!r} is not a strategy name (1 to "
                               f"{NAME_CHARS} printable characters) or *")
        if not isinstance(events, Mapping):
            raise ChoicesError(f"notification choices for {name!r}: expected event -> channels")
        rules[name.strip()] = {event: _channels(name, event, chans) for event, chans in events.items()}
    return Choices(rules)


def _channels(name: str, event: Any, chans: Any) -> frozenset[str]:
    if event not in EVENTS:
        raise ChoicesError(f"notification choices for {name!r}: {str(event)[:40]!r} is not an event "
                           f"(events: {', '.join(EVENTS)})")
    if event in GLOBAL_ONLY and name != ALL:
        raise ChoicesError(f"notification choices: {event} concerns the whole desk; choose it under * only")
    if not isinstance(chans, list | tuple) or not all(isinstance(c, str) for c in chans):
        raise ChoicesError(f"notification choices for {name!r} {event}: expected a list of channels")
    unknown = sorted(set(chans) - set(CHANNELS))
    if unknown:
        raise ChoicesError(f"notification choices for {name!r} {event}: {unknown[0][:40]!r} is not a channel "
                           f"(channels: {', '.join(CHANNELS)})")
    return frozenset(chans)


MAX_CHARS = 32_000


def parse(text: str) -> Choices:
    if len(text) > MAX_CHARS:
        raise ChoicesError(f"notification choices: longer than {MAX_CHARS} characters")
    try:
        raw = json.loads(text) if text.strip() else {}
    except (ValueError, RecursionError):
        raise ChoicesError("notification choices are not valid JSON") from None
    return from_mapping(raw)


def normalise(text: str) -> str:
    """The stored form (the setting's check): validated, canonical JSON."""
    return parse(text).to_json()


DEFAULT_JSON = from_mapping(DEFAULT).to_json()
