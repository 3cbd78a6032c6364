"""What the news poller reads and writes: the `news_feeds` setting, the entries it has acted on
(`news_seen`), the signals those raised, and each feed's status (`news_feeds`).

One transaction per poll of one feed (`record_poll`), so a crash between the signal and the
entry's "seen" row cannot happen: either both are written (the entry is never acted on twice) or
neither (the next poll tries again). A signal is a `signals` row (condition id, `news:<signal>`)
holding the rule's value until `expires_at`; the engine's fair values skip it once expired
(engine/trading/hosting/views.py) and `prune` deletes it a day later.
storage/dashboard_queries/news_queries.py holds the dashboard's reads of the same tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import text

from contracts.news import SIGNAL_PREFIX
from storage.sqlite.db import Database

SEEN_KEEP_MS = 14 * 86_400_000  # an entry older than this is forgotten (it has long expired by then)
EXPIRED_KEEP_MS = 86_400_000  # an expired news signal stays visible this long, then goes
DETAIL_CHARS = 300


@dataclass(frozen=True)
class NewSignal:
    condition_id: str
    source: str
    value: int
    expires_at: int
    detail: str


@dataclass(frozen=True)
class SeenEntry:
    """A feed entry the poller acted on, and how many signals it raised."""

    key: str
    title: str
    link: str | None
    published_ms: int | None
    signals: int
    sentiment: float | None = None  # -1..1, stored in thousandths


def feeds_setting(db: Database) -> tuple[str, int] | None:
    """The stored `news_feeds` setting (value as stored, version), or None when there is none."""
    with db.read() as conn:
        row = conn.execute(text("SELECT value, version FROM settings WHERE key = 'news_feeds'")).first()
    return None if row is None else (str(row[0]), int(row[1]))


def seen_keys(db: Database, feed: str, keys: Sequence[str]) -> set[str]:
    """Which of `keys` this feed has acted on already."""
    if not keys:
        return set()
    with db.read() as conn:
        return {key for (key,) in conn.execute(
            text("SELECT entry_key FROM news_seen WHERE feed = :f AND entry_key IN (SELECT value FROM json_each(:k))"),
            {"f": feed, "k": json.dumps(list(keys))})}


def record_poll(db: Database, *, feed: str, url: str, now: int, entries: int, seen: Sequence[SeenEntry],
                signals: Sequence[NewSignal], error: str | None) -> None:
    """One poll of one feed in one transaction: its signals, its entries seen, its status."""
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
                          "by": f"news:{feed}", "exp": signal.expires_at, "d": signal.detail[:DETAIL_CHARS]})
        for item in seen:
            conn.execute(text("""INSERT OR IGNORE INTO news_seen (feed, entry_key, title, link, published_at, seen_at,
                                     signals, sentiment) VALUES (:f, :k, :t, :l, :p, :now, :n, :sentiment)"""),
                         {"f": feed, "k": item.key, "t": item.title, "l": item.link, "p": item.published_ms,
                          "now": now, "n": item.signals,
                          "sentiment": None if item.sentiment is None else round(item.sentiment * 1000)})
        conn.execute(text("""INSERT INTO news_feeds (name, url, polled_at, ok_at, error, entries, matched, updated_at)
                             VALUES (:n, :u, :now, :ok, :e, :entries, :matched, :now)
                             ON CONFLICT (name) DO UPDATE SET url = excluded.url, polled_at = excluded.polled_at,
                                 ok_at = COALESCE(excluded.ok_at, news_feeds.ok_at), error = excluded.error,
                                 entries = excluded.entries, matched = excluded.matched,
                                 updated_at = excluded.updated_at"""),
                     {"n": feed, "u": url, "now": now, "ok": None if error else now, "e": error,
                      "entries": entries, "matched": len(signals)})


def forget_feeds(db: Database, keep: Iterable[str]) -> None:
    """Drop the status of feeds no longer configured."""
    with db.write() as conn:
        conn.execute(text("DELETE FROM news_feeds WHERE name NOT IN (SELECT value FROM json_each(:k))"),
                     {"k": json.dumps(list(keep))})


def prune(db: Database, now: int) -> None:
    """Forget old entries, and news signals that expired more than a day ago."""
    with db.write() as conn:
        conn.execute(text("DELETE FROM news_seen WHERE seen_at < :cut"), {"cut": now - SEEN_KEEP_MS})
        conn.execute(text("DELETE FROM signals WHERE source LIKE :p AND expires_at < :cut"),
                     {"p": SIGNAL_PREFIX + "%", "cut": now - EXPIRED_KEEP_MS})
