"""The news poller: a thread of its own that polls each configured feed when it is due, so a slow
feed, a huge one or a slow pattern never touches the trading loop, the heartbeat or commands.

About once a second it reads the `news_feeds` setting (only when its version changed: the
Settings page saves it through the one configuration writer, which validated it), and polls
every enabled feed whose `poll_s` has passed: fetch (bounded), parse, keep the entries it has not
acted on, match them to the feed's rules, and write the signals, the entries and the feed's
status in one transaction (storage/engine_stores/news_store.py). A feed that fails is retried at its next poll;
the first failure after a success raises a NEWS_FEED_FAILED warning, the recovery NEWS_FEED_OK; a
feed whose poll fails in a way nobody foresaw fails alone (the other feeds are polled). An entry
that cannot be read is left out and counted, the feed's other entries kept, and alerted once a
run (NEWS_ENTRY_REFUSED).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from contracts.jsonsafe import CONFIG_BYTES, JsonRefused, loads_bounded
from contracts.market_filter import select_markets
from contracts.news import NewsFeed, NewsRule, parse_feeds
from contracts.runtime_settings import BY_KEY, SettingError, parse_setting
from engine.feeds.catalog import MarketCatalog
from engine.news.entries import Entry, Matching, Parsed, ParseError, parse_counted
from engine.news.fetch import FetchError, fetch, new_client
from engine.news.sentiment import sentiment
from engine.trading.hosting.views import candidates
from storage.desk.audit import AlertLevel, raise_alert
from storage.engine_stores import news_store
from storage.sqlite.db import Database, is_locked, now_ms

log = logging.getLogger("engine.news")
TICK_S = 1.0
PRUNE_EVERY_MS = 3_600_000
MAX_MARKETS_PER_RULE = 50  # a filter that selects the whole catalogue is a mistake, not a signal


@dataclass
class FeedState:
    due_ms: int = 0
    etag: str | None = None
    modified: str | None = None
    failing: bool = False
    refused_told: bool = False  # its unreadable entries were alerted (once a run)


@dataclass(frozen=True)
class PollResult:
    feed: str
    entries: int = 0
    new: int = 0
    signals: int = 0
    error: str | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)


class NewsPoller:
    def __init__(self, db: Database, *, clock: Callable[[], int] = now_ms, tick_s: float = TICK_S,
                 client: Callable[[], httpx.Client] = new_client):
        self.db = db
        self.clock = clock
        self.tick_s = tick_s
        self._client_factory = client
        self._client: httpx.Client | None = None
        self.feeds: tuple[NewsFeed, ...] = ()
        self._version: int | None = None
        self._state: dict[str, FeedState] = {}
        self._pruned_at = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="news", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop after the poll in flight (bounded: the thread is a daemon)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._client is not None and (self._thread is None or not self._thread.is_alive()):
            self._client.close()  # a poll still in flight keeps its connection until the process ends

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # the poller must outlive anything one round meets
                if is_locked(exc):
                    log.info("news poll waits: another process holds the database write lock")
                else:
                    log.exception("news poll failed")
            self._stop.wait(self.tick_s)

    # -- one round ----------------------------------------------------------------------------

    def run_once(self) -> list[PollResult]:
        """Poll every enabled feed that is due; return what each poll did."""
        self.reload()
        now = self.clock()
        results = []
        for feed in self.feeds:
            state = self._state.setdefault(feed.name, FeedState())
            if feed.enabled and now >= state.due_ms:
                state.due_ms = now + feed.poll_s * 1000
                try:
                    results.append(self.poll(feed, state))
                except Exception as exc:
                    if not is_locked(exc):  # one feed's unforeseen failure is its own: the others are polled
                        log.exception("news feed poll failed", extra={"feed": feed.name})
                        results.append(self._failed(feed, state, now, f"{type(exc).__name__}: {str(exc)[:200]}"))
                        continue
                    state.due_ms = now + int(self.tick_s * 1000)  # nothing was written: try again in a moment
                    raise
        if now - self._pruned_at >= PRUNE_EVERY_MS:
            news_store.prune(self.db, now)
            self._pruned_at = now
        return results

    def reload(self) -> None:
        """The feeds as configured, re-read when the setting changed. A stored value that does not
        validate (written around the dashboard) keeps the feeds in force before; the engine's
        configuration check raises CONFIG_INVALID for it."""
        row = news_store.feeds_setting(self.db)
        if row is None or row[1] == self._version:
            return
        self._version = row[1]
        try:
            raw = loads_bounded(row[0], max_bytes=CONFIG_BYTES, max_depth=BY_KEY["news_feeds"].max_depth)
            self.feeds = parse_feeds(parse_setting(BY_KEY["news_feeds"], raw))
        except (JsonRefused, SettingError, ValueError) as exc:
            log.warning("news feeds setting does not validate; keeping the feeds in force", extra={"error": str(exc)})
            return
        names = {feed.name for feed in self.feeds}
        self._state = {name: state for name, state in self._state.items() if name in names}
        news_store.forget_feeds(self.db, names)
        log.info("news feeds configured", extra={"feeds": sorted(names)})

    def poll(self, feed: NewsFeed, state: FeedState | None = None) -> PollResult:
        state = state or self._state.setdefault(feed.name, FeedState())
        now = self.clock()
        try:
            fetched = fetch(self._http(), feed.url, etag=state.etag, modified=state.modified)
            parsed = Parsed([]) if fetched.body is None else parse_counted(fetched.body)
        except (FetchError, ParseError) as exc:
            return self._failed(feed, state, now, str(exc))
        entries = parsed.entries
        if parsed.refused and not state.refused_told:
            state.refused_told = True
            self._alert("warning", "NEWS_ENTRY_REFUSED",
                        f"news feed '{feed.name}' has {parsed.refused} entries the desk cannot read ({parsed.why}): "
                        "they are left out, its other entries are read; said once a run")
        state.etag, state.modified = (fetched.etag, fetched.modified) if fetched.body is not None else (
            state.etag, state.modified)
        known = news_store.seen_keys(self.db, feed.name, [e.key for e in entries])
        fresh = [e for e in entries if e.key not in known]
        matching = Matching(feed.rules)
        signals: list[news_store.NewSignal] = []
        seen: list[news_store.SeenEntry] = []
        markets = _Markets(self.db, now)
        for entry in fresh:
            tone = sentiment(entry.text)
            written = [s for rule in matching.rules_for(entry) if rule.admits(tone)
                       for s in self._signals(rule, entry, markets, now, tone)]
            signals += written
            seen.append(news_store.SeenEntry(entry.key, entry.title, entry.link, entry.published_ms, len(written),
                                             tone))
        problem = "; ".join(matching.problems)[:500] or None
        news_store.record_poll(self.db, feed=feed.name, url=feed.url, now=now, entries=len(entries), seen=seen,
                               signals=signals, error=problem)
        if state.failing:
            state.failing = False
            self._alert("info", "NEWS_FEED_OK", f"news feed '{feed.name}' answers again")
        for signal in signals:
            log.info("news signal", extra={"feed": feed.name, "signal": signal.source, "market": signal.condition_id,
                                           "value": signal.value, "headline": signal.detail[:120]})
        return PollResult(feed.name, len(entries), len(fresh), len(signals), None, tuple(matching.problems))

    def _signals(self, rule: NewsRule, entry: Entry, markets: _Markets, now: int,
                 tone: float) -> list[news_store.NewSignal]:
        start = min(entry.published_ms, now) if entry.published_ms is not None else now
        expires = start + rule.ttl_s * 1000
        if expires <= now:  # older news than the rule cares for: history, not a signal
            return []
        return [news_store.NewSignal(cid, rule.source, rule.value_for(tone), expires, entry.title)
                for cid in markets.selected(rule)]

    def _failed(self, feed: NewsFeed, state: FeedState, now: int, error: str) -> PollResult:
        news_store.record_poll(self.db, feed=feed.name, url=feed.url, now=now, entries=0, seen=(), signals=(),
                               error=error)
        if not state.failing:
            state.failing = True
            self._alert("warning", "NEWS_FEED_FAILED",
                        f"news feed '{feed.name}' could not be read: {error[:200]} (tried again every "
                        f"{feed.poll_s} s)")
        log.warning("news feed failed", extra={"feed": feed.name, "error": error})
        return PollResult(feed.name, error=error)

    def _alert(self, level: AlertLevel, code: str, message: str) -> None:
        with self.db.write() as conn:
            raise_alert(conn, level=level, source="engine", code=code, message=message)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = self._client_factory()
        return self._client


class _Markets:
    """The markets each rule selects, from the catalogue as the engine stored it, read once a poll
    and only if an entry matched."""

    def __init__(self, db: Database, now: int) -> None:
        self.db = db
        self.now = now
        self._candidates: list | None = None

    def selected(self, rule: NewsRule) -> list[str]:
        if self._candidates is None:
            catalog = MarketCatalog()
            catalog.load(self.db)
            self._candidates = candidates(self.db, catalog)
        known = {c.condition_id for c in self._candidates}
        chosen = select_markets(rule.markets, self._candidates, now_ms=self.now)
        return [cid for cid in chosen if cid in known][:MAX_MARKETS_PER_RULE]
