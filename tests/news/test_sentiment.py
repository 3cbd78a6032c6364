"""Sentiment in news (issue 38): every headline is scored (-1..1) by a lexicon model shipped in its
package, with no network; a rule can match only within a sentiment range and move the fair value it
writes by a weight times the score, which value betting then trades toward; the score is kept with
the headline. Bad bounds are refused with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.news import NewsConfigError, feed_problems, parse_feeds
from engine.news.poller import NewsPoller
from engine.news.sentiment import sentiment
from storage.sqlite.db import Database
from tests.news.feeds import FeedServer, Served, rss
from tests.news.test_poller import FED, NOW_S, Clock, configure, signals, wire
from tests.news.test_poller import db as db  # noqa: F401  (fixtures)
from tests.news.test_poller import server as server  # noqa: F401

GOOD = "Rate cut approved, a great win and strong relief for growth"
BAD = "Rate cut fails: a terrible crisis, panic and fear of disaster"


def test_the_lexicon_scores_tone_offline() -> None:
    assert sentiment(GOOD) > 0.5 and sentiment(BAD) < -0.5
    assert sentiment("Weather update for Tuesday") == 0.0
    assert -1 <= sentiment("!" * 10_000) <= 1


def test_a_rule_gates_on_sentiment_and_moves_its_value_by_it(server: FeedServer, db: Database) -> None:  # noqa: F811
    server.pages["/rss"] = Served(rss((GOOD, "", NOW_S - 60), (BAD, "", NOW_S - 60)))
    configure(db, [wire(server.url("/rss"), value=0.5, min_sentiment=0.2, sentiment_weight=0.3)])
    [result] = NewsPoller(db, clock=Clock()).run_once()
    assert (result.new, result.signals) == (2, 1)  # the negative headline is outside the range
    [(cid, _, value, _, detail)] = signals(db)
    assert cid == FED and detail == GOOD
    assert value == round(500_000 + 0.3 * sentiment(GOOD) * 1_000_000)  # 0.5 moved up by its tone
    with db.read() as conn:
        kept: dict[str, int] = dict(conn.exec_driver_sql("SELECT title, sentiment FROM news_seen").all())
    assert kept == {GOOD: round(sentiment(GOOD) * 1000), BAD: round(sentiment(BAD) * 1000)}


@pytest.mark.parametrize(("rule", "field", "message"), [
    ({"min_sentiment": 1.5}, "min_sentiment", "min_sentiment must be a number from -1 to 1"),
    ({"min_sentiment": 0.5, "max_sentiment": -0.5}, "min_sentiment", "no headline would match"),
    ({"sentiment_weight": 0.9}, "sentiment_weight", "sentiment_weight must be a number from 0 to 0.5"),
    ({"sentiment_weight": "lots"}, "sentiment_weight", "must be a number"),
])
def test_bad_sentiment_fields_are_refused_by_name(rule: dict, field: str, message: str) -> None:
    feed = wire("http://127.0.0.1:9/rss", **rule)
    with pytest.raises(NewsConfigError, match=message):
        parse_feeds([feed])
    assert [(p.field, message in p.message) for p in feed_problems([feed])] == [(field, True)]


def test_a_stored_rule_without_sentiment_fields_reads_as_before(tmp_path: Path) -> None:
    [feed] = parse_feeds([wire("http://127.0.0.1:9/rss")])
    rule = feed.rules[0]
    assert (rule.min_sentiment, rule.max_sentiment, rule.sentiment_weight) == (None, None, 0.0)
    assert rule.admits(-1.0) and rule.value_for(0.9) == rule.value
