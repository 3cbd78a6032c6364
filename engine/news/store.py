"""What the news poller writes: signals, the entries it has acted on, each feed's status.

One transaction per poll of one feed, so a crash between the signal and the entry's "seen" row
cannot happen: either both are written (the entry is never acted on twice) or neither (the next
poll tries again). A signal is `signals` row (condition id, `news:<signal>`) holding the rule's
value until `expires_at`; the engine's fair values skip it once expired
(engine/trading/views.py) and the poller deletes it a day later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import text

from engine.contracts.news import SIGNAL_PREFIX
from engine.news.entries import Entry
from storage.audit import raise_alert
from storage.db import Database

SEEN_KEEP_MS = 14 * 86_400_000  # an entry older than this is forgotten (it has long expired by then)
EXPIRED_KEEP_MS = 86_400_000  # an expired news signal stays visible this long, then goes


@dataclass(frozen=True)
class NewSignal:
    condition_id: str
    source: str
    value: int
    expires_at: int
    detail: str


@dataclass(frozen=True)
class Seen:
    entry: Entry
    signals: int


def unseen(db: Database, feed: str, entries: Sequence[Entry]) -> list[Entry]:
    """The entries this feed has not been acted on yet, in feed order."""
    if not entries:
        return []
    with db.read() as conn:
        known = {key for (key,) in conn.execute(
            text("SELECT entry_key FROM news_seen WHERE feed = :f AND entry_key IN (SELECT value FROM json_each(:k))"),
            {"f": feed, "k": _json_list(e.key for e in entries)})}
    return [e for e in entries if e.key not in known]


def record_poll(db: Database, *, feed: str, url: str, now: int, entries: int, seen: Sequence[Seen],
                signals: Sequence[NewSignal], error: str | None) -> None:
    with db.write() as conn:
        for signal in signals:
            conn.execute(text("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by,
                                     expires_at, detail)
                                 VALUES (:c, :s, :v, 1, :now, :by, :exp, :d)
                                 ON CONFLICT (condition_id, source) DO UPDATE SET fair_value = excluded.fair_value,
                                     version = signals.version + 1, updated_at = excluded.updated_at,
                                     updated_by = excluded.updated_by, expires_at = excluded.expires_at,
                                     detail = excluded.detail"""),
                         {"c": signal.condition_id, "s": signal.source, "v": signal.value, "now": now,
                          "by": f"news:{feed}", "exp": signal.expires_at, "d": signal.detail[:300]})
        for item in seen:
            conn.execute(text("""INSERT OR IGNORE INTO news_seen (feed, entry_key, title, link, published_at, seen_at,
                                     signals) VALUES (:f, :k, :t, :l, :p, :now, :n)"""),
                         {"f": feed, "k": item.entry.key, "t": item.entry.title, "l": item.entry.link,
                          "p": item.entry.published_ms, "now": now, "n": item.signals})
        conn.execute(text("""INSERT INTO news_feeds (name, url, polled_at, ok_at, error, entries, matched, updated_at)
                             VALUES (:n, :u, :now, :ok, :e, :entries, :matched, :now)
                             ON CONFLICT (name) DO UPDATE SET url = excluded.url, polled_at = excluded.polled_at,
                                 ok_at = COALESCE(excluded.ok_at, news_feeds.ok_at), error = excluded.error,
                                 entries = excluded.entries, matched = excluded.matched,
                                 updated_at = excluded.updated_at"""),
                     {"n": feed, "u": url, "now": now, "ok": None if error else now, "e": error,
                      "entries": entries, "matched": len(signals)})


def alert(db: Database, level: str, code: str, message: str) -> None:
    with db.write() as conn:
        raise_alert(conn, level=level, source="engine", code=code, message=message)  # type: ignore[arg-type]


def forget_feeds(db: Database, keep: Iterable[str]) -> None:
    """Drop the status of feeds no longer configured."""
    with db.write() as conn:
        conn.execute(text("DELETE FROM news_feeds WHERE name NOT IN (SELECT value FROM json_each(:k))"),
                     {"k": _json_list(keep)})


def prune(db: Database, now: int) -> None:
    with db.write() as conn:
        conn.execute(text("DELETE FROM news_seen WHERE seen_at < :cut"), {"cut": now - SEEN_KEEP_MS})
        conn.execute(text("DELETE FROM signals WHERE source LIKE :p AND expires_at < :cut"),
                     {"p": SIGNAL_PREFIX + "%", "cut": now - EXPIRED_KEEP_MS})


def _json_list(values: Iterable[str]) -> str:
    import json

    return json.dumps(list(values))
