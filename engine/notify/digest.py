"""What the hourly cap holds back is not dropped: it is counted per channel, event and strategy
in `notify_digest` (with the latest one's line; storage/engine_stores/notify_store.py keeps the table), and goes
out as one digest message per channel once the first of it has waited the digest delay:
"12 more fills in the last 15 min: …".

A digest is not itself counted against the cap (one per channel per delay at most), so a
burst of fills can never end in silence.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection

from storage.engine_stores import notify_store
from storage.engine_stores.notify_store import Held

PLURAL = {"alert": "alerts", "fill": "fills", "entry": "entries", "exit": "exits", "refused": "refused orders",
          "venue_cancel": "orders cancelled by the venue"}
ORDER = ("alert", "refused", "venue_cancel", "exit", "entry", "fill")
ALL_STRATEGIES = "*"


def due(conn: Connection, channel: str, now: int, wait_ms: int) -> list[Held]:
    """Everything held for `channel`, once the first of it has waited `wait_ms`; else nothing."""
    rows = notify_store.held(conn, channel)
    return rows if rows and min(r.first_at for r in rows) <= now - wait_ms else []


def _minutes(ms: int) -> str:
    minutes = max(1, round(ms / 60_000))
    return "the last hour" if minutes == 60 else f"the last {minutes} min"


def message(rows: list[Held], host: str, cap: int, now: int) -> tuple[str, str]:
    """One digest: a headline of counts, then a line per event with the strategies and the latest."""
    by_event: dict[str, list[Held]] = defaultdict(list)
    for row in rows:
        by_event[row.event].append(row)
    events = sorted(by_event, key=lambda e: ORDER.index(e) if e in ORDER else len(ORDER))
    since = _minutes(now - min(r.first_at for r in rows))
    counts = [f"{sum(r.count for r in by_event[e])} more {PLURAL.get(e, e)}" for e in events]
    title = f"{', '.join(counts)} in {since} · desk on {host}"
    lines = [f"Over the cap of {cap} messages an hour, these were held back and are summed up here:"]
    for event in events:
        group = sorted(by_event[event], key=lambda r: (-r.count, r.strategy))
        total = sum(r.count for r in group)
        who = ", ".join(f"{r.strategy} ×{r.count}" for r in group if r.strategy != ALL_STRATEGIES)
        latest = max(group, key=lambda r: r.last_at).latest
        lines.append(f"• {total} {PLURAL.get(event, event)}" + (f" ({who})" if who else "") + f"; latest: {latest}")
    lines.append("Every one is on the dashboard (Orders, Overview) and in `python -m engine alerts`.")
    return title, "\n".join(lines)
