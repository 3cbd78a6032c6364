"""The notifier and the news poller: its state, queue, trade events and digests; feeds and entries seen.

Generated once from the migrated schema, then kept by hand: tests/storage/test_tables.py fails when
a class and its migrated table differ."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class NotifierState(SQLModel, table=True):
    __tablename__ = "notifier_state"

    id: int | None = Field(default=None, primary_key=True)
    alert_cursor: int
    suppressed: str
    updated_at: int
    event_cursor: int
    summary_at: int | None = None


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    created_at: int
    channel: str
    kind: str
    level: str
    title: str
    body: str
    status: str
    targets: str
    attempts: int
    alert_id: int | None = None
    dedup_key: str | None = None
    next_attempt_at: int | None = None
    last_attempt_at: int | None = None
    error: str | None = None


class NotifyEvent(SQLModel, table=True):
    __tablename__ = "notify_events"

    id: int | None = Field(default=None, primary_key=True)
    at: int
    kind: str
    ref: int


class NotifyDigest(SQLModel, table=True):
    __tablename__ = "notify_digest"

    channel: str = Field(primary_key=True)
    event: str = Field(primary_key=True)
    strategy: str = Field(primary_key=True)
    count: int
    first_at: int
    last_at: int
    latest: str


class NewsFeed(SQLModel, table=True):
    __tablename__ = "news_feeds"

    name: str = Field(primary_key=True)
    url: str
    entries: int
    matched: int
    updated_at: int
    polled_at: int | None = None
    ok_at: int | None = None
    error: str | None = None


class NewsSeen(SQLModel, table=True):
    __tablename__ = "news_seen"

    feed: str = Field(primary_key=True)
    entry_key: str = Field(primary_key=True)
    title: str
    seen_at: int
    signals: int
    link: str | None = None
    published_at: int | None = None
    sentiment: int | None = None  # the headline's sentiment in thousandths, -1000..1000 (engine/news/sentiment.py)
