"""The news poller against feeds served from 127.0.0.1, on a real SQLite file with an injected
clock: entries matching a rule become expiring signals for the markets the rule selects, once;
feeds that are too big, too slow, not feeds, or failing are refused and reported, never
half-read; the fair values the engine reads skip an expired signal."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.news import fetch as fetch_module
from engine.news.poller import NewsPoller
from engine.trading.hosting.views import load_fair_values
from storage.desk import config
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.news.feeds import FeedServer, Served, atom, feed_server, rss

NOW_S = 1_800_000_000
FED, BTC, OTHER = "0xfed", "0xbtc", "0xother"


class Clock:
    def __init__(self) -> None:
        self.ms = NOW_S * 1000

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as handle:
        yield handle


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "t.db"
    migrate(path)
    with sqlite3.connect(path) as conn:
        for cid, question, liquidity in ((FED, "Will the Fed cut rates in December?", 9),
                                         (BTC, "Bitcoin above 100k?", 5), (OTHER, "Will it rain in Paris?", 1)):
            conn.execute("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size, neg_risk,
                            volume, volume_24h, liquidity, tradable, first_seen_at, updated_at)
                            VALUES (?, ?, ?, ?, 10000, 5000000, 0, 0, 0, ?, 1, 0, 0)""",
                         (cid, question, cid + "y", cid + "n", liquidity * 1_000_000))
    database = Database(path)
    yield database
    database.dispose()


def configure(db: Database, feeds: list[dict[str, Any]]) -> None:
    with db.read() as conn:
        version = conn.exec_driver_sql("SELECT version FROM settings WHERE key = 'news_feeds'").scalar()
    config.save_setting(db, key="news_feeds", value=json.dumps(feeds), version=version, actor="test")


def wire(url: str, **rule: Any) -> dict[str, Any]:
    return {"name": "wire", "url": url, "poll_s": 60, "rules": [
        {"signal": "fed-cut", "keywords": ["rate cut"], "markets": {"filter": {"text": "fed"}}, "value": 0.8,
         "ttl_s": 3600, **rule}]}


def signals(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT condition_id, source, fair_value, expires_at, detail FROM signals ORDER BY condition_id")]


def feed_status(db: Database) -> dict[str, Any]:
    with db.read() as conn:
        row = conn.exec_driver_sql("SELECT name, polled_at, ok_at, error, entries, matched FROM news_feeds").first()
    return dict(zip(("name", "polled_at", "ok_at", "error", "entries", "matched"), row, strict=False)) if row else {}


def test_a_matching_entry_becomes_a_signal_once_for_the_markets_its_rule_selects(server: FeedServer,
                                                                                  db: Database) -> None:
    server.pages["/rss"] = Served(rss(("Fed signals a <b>rate cut</b>", "Officials hint", NOW_S - 600),
                                      ("Markets calm", "nothing here", NOW_S - 60)), etag='"v1"')
    configure(db, [wire(server.url("/rss"))])
    clock = Clock()
    poller = NewsPoller(db, clock=clock)
    [result] = poller.run_once()
    assert (result.entries, result.new, result.signals, result.error) == (2, 2, 1, None)
    # published 10 minutes ago with a one-hour time-to-live: 50 minutes left
    assert signals(db) == [(FED, "news:fed-cut", 800_000, (NOW_S - 600 + 3600) * 1000, "Fed signals a rate cut")]
    assert load_fair_values(db, clock.ms) == {FED: 800_000}
    assert feed_status(db) | {"polled_at": None} == {"name": "wire", "polled_at": None, "ok_at": clock.ms,
                                                     "error": None, "entries": 2, "matched": 1}

    assert poller.run_once() == []  # not due yet
    clock.ms += 61_000
    [again] = poller.run_once()
    assert again.new == 0 and server.hits["/rss"] == 2  # unchanged feed: 304, nothing re-read
    server.pages["/rss"].etag = None  # a server without ETags: the same entries are recognised by id
    clock.ms += 61_000
    [third] = poller.run_once()
    assert (third.entries, third.new, third.signals) == (2, 0, 0)

    clock.ms = (NOW_S - 600 + 3600) * 1000 + 1
    assert load_fair_values(db, clock.ms) == {}  # expired: no longer a fair value


def test_news_older_than_its_time_to_live_is_history_and_undated_news_starts_when_seen(server: FeedServer,
                                                                                     db: Database) -> None:
    server.pages["/rss"] = Served(rss(("Old rate cut story", "", NOW_S - 7200), ("Rate cut now", "", None)))
    configure(db, [wire(server.url("/rss"))])
    NewsPoller(db, clock=Clock()).run_once()
    assert [(cid, exp, detail) for cid, _, _, exp, detail in signals(db)] == [
        (FED, (NOW_S + 3600) * 1000, "Rate cut now")]


def test_a_pattern_matches_case_insensitively_and_an_explicit_market_list_is_used_as_given(server: FeedServer,
                                                                                           db: Database) -> None:
    server.pages["/atom"] = Served(atom(("urn:1", "BTC ETF APPROVED by regulator", "2027-01-15T08:00:00Z")),
                                   content_type="application/atom+xml")
    configure(db, [wire(server.url("/atom"), keywords=[], pattern=r"\betf\s+approved\b", markets=[BTC, "0xunknown"],
                        signal="etf", value=0.95)])
    [result] = NewsPoller(db, clock=Clock()).run_once()
    assert result.signals == 1
    assert [(cid, source, value) for cid, source, value, _, _ in signals(db)] == [(BTC, "news:etf", 950_000)]


def test_feeds_that_are_too_big_too_slow_missing_or_not_feeds_are_reported_and_alerted(
        server: FeedServer, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_module, "MAX_BYTES", 4_000)
    monkeypatch.setattr(fetch_module, "TOTAL_S", 0.5)
    cases = {
        "/big": (Served(rss(*[(f"rate cut {n}", "x" * 200, None) for n in range(40)])), "larger than 4,000 bytes"),
        "/drip": (Served(rss(("rate cut", "", None)), drip_s=0.01), "took longer than 0.5 s"),
        "/gone": (Served(b"", status=503), "HTTP 503"),
        "/html": (Served(b"<html><body>not a feed", content_type="text/html"), "not an RSS or Atom feed"),
    }
    for path, (page, _) in cases.items():
        server.pages[path] = page
    clock = Clock()
    for path, (_, message) in cases.items():
        configure(db, [wire(server.url(path))])
        poller = NewsPoller(db, clock=clock)
        [result] = poller.run_once()
        assert result.error is not None and message in result.error, (path, result.error)
        assert message in feed_status(db)["error"] and feed_status(db)["ok_at"] is None
    assert signals(db) == []
    with db.read() as conn:
        alerts = conn.exec_driver_sql("SELECT code FROM alerts ORDER BY id").scalars().all()
    assert alerts == ["NEWS_FEED_FAILED"] * 4

    server.pages["/gone"] = Served(rss(("rate cut", "", None)))  # back: one recovery note
    configure(db, [wire(server.url("/gone"))])
    poller = NewsPoller(db, clock=clock)
    poller.run_once()
    clock.ms += 61_000
    server.pages["/gone"] = Served(b"", status=500)
    poller.run_once()
    clock.ms += 61_000
    server.pages["/gone"] = Served(rss(("rate cut again", "", None), guid_prefix="b"))
    poller.run_once()
    with db.read() as conn:
        later = conn.exec_driver_sql("SELECT code FROM alerts ORDER BY id").scalars().all()[4:]
    assert later == ["NEWS_FEED_FAILED", "NEWS_FEED_OK"]


def test_a_pattern_that_runs_out_of_time_on_an_entry_does_not_match_and_is_reported(
        server: FeedServer, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from contracts import news

    # A pattern that passes the probe but backtracks on this entry's text.
    server.pages["/rss"] = Served(rss(("x" * 28 + "y", "", None)))
    configure(db, [wire(server.url("/rss"), keywords=[], pattern=r"(x|xx)+z")])
    monkeypatch.setattr("engine.news.entries.MATCH_TIMEOUT_S", 0.000001)
    [result] = NewsPoller(db, clock=Clock()).run_once()
    assert result.signals == 0 and result.problems and "ran out of time" in result.problems[0]
    assert "ran out of time" in feed_status(db)["error"]
    assert news.MATCH_TIMEOUT_S > 0.000001  # the contract's own limit is untouched


def test_a_disabled_feed_is_not_polled_and_a_removed_feed_loses_its_status(server: FeedServer, db: Database) -> None:
    server.pages["/rss"] = Served(rss(("rate cut", "", None)))
    configure(db, [wire(server.url("/rss")) | {"enabled": False}])
    poller = NewsPoller(db, clock=Clock())
    assert poller.run_once() == [] and "/rss" not in server.hits
    configure(db, [wire(server.url("/rss"))])
    assert len(poller.run_once()) == 1 and feed_status(db)["name"] == "wire"
    configure(db, [])
    poller.run_once()
    assert feed_status(db) == {}


def test_a_redirect_is_followed_on_the_feeds_own_origin_and_refused_to_another_port_or_a_private_address(
        server: FeedServer, db: Database) -> None:
    """A feed that redirects to another local port (a service never meant to be public) is refused
    with the reason and nothing of what that service answers is stored; a redirect within the
    configured origin is followed as feeds move."""
    with feed_server() as internal:
        internal.pages["/admin"] = Served(rss(("rate cut: internal secret", "private", NOW_S - 60)))
        server.pages["/moved"] = Served(status=301, location="/rss")
        server.pages["/rss"] = Served(rss(("Fed signals a rate cut", "", NOW_S - 60)))
        server.pages["/away"] = Served(status=302, location=internal.url("/admin"))
        clock = Clock()

        configure(db, [wire(server.url("/away"))])
        [refused] = NewsPoller(db, clock=clock).run_once()
        assert refused.error is not None and "refused: redirected to another port" in refused.error
        assert internal.hits == {} and signals(db) == []
        assert "redirected to another port" in feed_status(db)["error"]

        configure(db, [wire(server.url("/moved"))])
        [followed] = NewsPoller(db, clock=clock).run_once()
        assert followed.error is None and followed.signals == 1 and server.hits["/rss"] == 1


def test_a_redirect_to_an_address_in_our_own_network_is_refused_even_on_the_same_host_name() -> None:
    """A public feed whose host name, at redirect time, resolves into the loopback, a private network or the
    cloud's link-local metadata address (DNS rebinding) is refused: only the configured host's own
    addresses are trusted."""
    from engine.feeds.origin import OriginRefused, check_redirect

    public = {"news.example": ["93.184.216.34"]}
    check_redirect("https://news.example/rss", "https://news.example/feed", resolver=lambda h: public[h])
    for address in ("127.0.0.1", "10.0.0.7", "169.254.169.254", "::1"):
        answers = iter([["93.184.216.34"], [address]])
        with pytest.raises(OriginRefused, match=f"resolves to the private, loopback or link-local address {address}"):
            check_redirect("https://news.example/rss", "https://news.example/feed", resolver=lambda h: next(answers))
    with pytest.raises(OriginRefused, match="another host"):
        check_redirect("https://news.example/rss", "https://127.0.0.1/rss", resolver=lambda h: [])
    with pytest.raises(OriginRefused, match="another scheme"):
        check_redirect("https://news.example/rss", "http://news.example:443/rss", resolver=lambda h: [])
    # configured on the loopback (a feed the operator runs locally): redirects stay on it
    check_redirect("http://127.0.0.1:8080/rss", "http://127.0.0.1:8080/feed")


def test_hostile_entries_among_good_ones_never_cost_the_good_ones_nor_the_other_feeds(
        server: FeedServer, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.news import entries

    # A lone surrogate's character reference made feedparser raise on the whole feed (every poll,
    # no alert); so would a NUL or a code point past Unicode's. Between them, two good entries.
    server.pages["/rss"] = Served(rss(("Fed signals a rate cut", "first", NOW_S - 600),
                                      ("bad &#xD800; &#55296;", "a rate cut &#0; &#x110000; &#99999999999999999999;",
                                       NOW_S - 500),
                                      ("Far future", "rate cut", 253_397_152_800),
                                      ("Unreadable", "rate cut", NOW_S - 400),
                                      ("Fed signals a second rate cut", "again", NOW_S - 300), guid_prefix="w"))
    server.pages["/calm"] = Served(rss(("Markets calm", "nothing", NOW_S - 60), guid_prefix="c"))
    configure(db, [wire(server.url("/rss")), {**wire(server.url("/calm")), "name": "calm"}])
    real = entries._entry

    def one_unreadable(raw: Any) -> Any:  # an entry the parser cannot turn into one (a bug's stand-in)
        if raw.get("title") == "Unreadable":
            raise TypeError("an entry nobody foresaw")
        return real(raw)

    monkeypatch.setattr(entries, "_entry", one_unreadable)
    clock = Clock()
    poller = NewsPoller(db, clock=clock)
    results = {r.feed: r for r in poller.run_once()}
    assert (results["wire"].error, results["wire"].entries) == (None, 4) and results["calm"].error is None
    assert (results["wire"].new, results["wire"].signals) == (4, 4)  # every readable entry matched its rule
    assert signals(db) and all("\ud800" not in s[4] for s in signals(db))
    clock.ms += 61_000
    poller.run_once()  # the same feed again: still read, the refusal not said twice
    with db.read() as conn:
        alerts = conn.exec_driver_sql("SELECT code, message FROM alerts").all()
    assert [a[0] for a in alerts] == ["NEWS_ENTRY_REFUSED"]
    assert "wire" in alerts[0][1] and "an entry nobody foresaw" in alerts[0][1]
