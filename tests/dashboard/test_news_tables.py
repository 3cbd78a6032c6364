"""The news feeds as the Settings page's two tables: a stored setting survives the round trip
(filters with keys the tables do not show included), and a save's problems are all found and
each placed on its table row."""

from __future__ import annotations

from typing import Any

import pandas as pd

from contracts.news import check_feeds
from pages.widgets.news_tables import feed_frame, feeds_from, rule_frame

CID = "0x" + "ab" * 32
STORED: list[dict[str, Any]] = check_feeds([
    {"name": "wires", "url": "https://example.com/rss", "poll_s": 120, "enabled": False, "rules": [
        {"signal": "fed-cut", "keywords": ["rate cut", "cuts rates"], "markets": [CID], "value": 0.7, "ttl_s": 3600},
        {"signal": "btc", "pattern": r"\bbitcoin\b", "value": 0.25, "ttl_s": 600,
         "markets": {"filter": {"text": "bitcoin", "max_markets": 2, "min_liquidity": 5000, "sort": "volume"}}}]},
    {"name": "desk.blog", "url": "http://127.0.0.1:9/feed", "rules": [
        {"signal": "any", "keywords": ["x"], "markets": {"filter": {"text": "election"}}, "value": 1, "ttl_s": 60}]},
])


def test_a_stored_setting_survives_the_tables_unchanged() -> None:
    feeds, rules = feed_frame(STORED), rule_frame(STORED)
    assert list(feeds["name"]) == ["wires", "desk.blog"] and list(rules["feed"]) == ["wires", "wires", "desk.blog"]
    assert rules["market_ids"].iloc[0] == CID and rules["matching"].iloc[1] == "bitcoin"
    assert rules["keywords"].iloc[0] == "rate cut, cuts rates"
    # As the editor hands them back: numbers as floats, missing cells as NaN.
    built, placed = feeds_from(feeds.astype({"poll_s": float}), rules.astype({"value": float, "ttl_s": float}))
    assert not placed
    assert check_feeds(built) == STORED  # the filter's other keys (min_liquidity, sort) kept


def test_every_problem_of_a_save_is_found_and_placed_on_its_row() -> None:
    feeds = pd.concat([feed_frame(STORED), pd.DataFrame([{"name": "Bad Name", "url": "ftp://x", "poll_s": 5,
                                                          "enabled": True}])], ignore_index=True)
    rules = rule_frame(STORED)
    rules.loc[0, "value"] = 1.5  # wires, rule 1
    rules.loc[1, "pattern"] = "(a+)+$"  # wires, rule 2: backtracks
    rules.loc[2, ["keywords", "pattern"]] = ["", ""]  # desk.blog: matches nothing
    orphan = {"feed": "nowhere", "signal": "s", "keywords": "k", "market_ids": CID, "value": 0.5, "ttl_s": 600}
    rules = pd.concat([rules, pd.DataFrame([orphan])], ignore_index=True)
    _, placed = feeds_from(feeds, rules)
    assert sorted(placed.feeds) == [2]  # the new feed: its name, url, poll and missing rules, at once
    new_feed = " | ".join(placed.feeds[2])
    assert all(w in new_feed for w in ("name must be", "url must be", "poll_s must be", "rules must be"))
    assert sorted(placed.rules) == [0, 1, 2, 3]
    assert "value must be a probability" in placed.rules[0][0]
    assert "pattern is too slow" in placed.rules[1][0]
    assert "a rule must match something" in placed.rules[2][0]
    assert placed.rules[3] == ["feed: pick the feed this rule reads (from the feeds table)"]
    assert not any(m.startswith("feed ") and " rule " in m[:20] for ms in placed.rules.values() for m in ms)
    assert placed.count() == 4 + 4


def test_two_feeds_of_one_name_are_both_marked() -> None:
    twice = pd.concat([feed_frame(STORED)] * 2, ignore_index=True)
    _, placed = feeds_from(twice, rule_frame(STORED))
    assert {n for n, why in placed.feeds.items() if any("two feeds are named" in w for w in why)} == {0, 1, 2, 3}
