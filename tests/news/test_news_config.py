"""The news feeds setting: validated like every other input by the one configuration writer
(bounds, unknown fields, regular expressions compiled and tried against a hostile probe), with
messages that name the feed, the rule and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.news import MAX_FEEDS, NewsConfigError, check_feeds
from storage.desk import config
from storage.engine_stores.config_reads import load_settings as load_with_problems
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate


def feed(**changes: Any) -> dict[str, Any]:
    rule = {"signal": "fed-cut", "keywords": ["rate cut"], "markets": ["0xabc"], "value": 0.7, "ttl_s": 3600}
    rule.update(changes.pop("rule", {}))
    return {"name": "wires", "url": "https://example.com/rss", "rules": [rule], **changes}


def refused(raw: Any) -> str:
    with pytest.raises(NewsConfigError) as err:
        check_feeds(raw)
    return str(err.value)


def test_a_valid_feed_is_stored_with_its_defaults() -> None:
    [stored] = check_feeds([feed(rule={"pattern": r"\bcuts?\b", "markets": {"filter": {"text": "fed"}}})])
    assert stored["poll_s"] == 300 and stored["enabled"] is True
    assert stored["rules"][0]["value"] == 0.7 and stored["rules"][0]["pattern"] == r"\bcuts?\b"


@pytest.mark.parametrize(("raw", "message"), [
    ({"name": "x"}, "must be a list of feeds"),
    ([feed()] * 2, "two feeds have the same name"),
    ([feed(name="Wires!")], "feed 1: name must be 1 to 40 lower-case"),
    ([feed(url="file:///etc/passwd")], "feed 'wires': url must be an http:// or https://"),
    ([feed(poll_s=1)], "poll_s must be a whole number of seconds from 10 to 86400"),
    ([feed(extra=1)], "unknown field 'extra'"),
    ([feed(rules=[])], "rules must be a list of 1 to 20"),
    ([feed(rule={"keywords": [], "pattern": ""})], "rule 1: give keywords or a pattern"),
    ([feed(rule={"keywords": ["x" * 101]})], "keywords must be a list of at most 20"),
    ([feed(rule={"pattern": "(unclosed"})], "pattern is not a valid regular expression"),
    ([feed(rule={"pattern": "(a+)+$"})], "pattern is too slow"),
    ([feed(rule={"pattern": "x" * 201})], "pattern must be a regular expression of at most 200"),
    ([feed(rule={"value": 1.5})], "value must be a probability between 0 and 1"),
    ([feed(rule={"value": 0.1234567})], "at most 6 decimals"),
    ([feed(rule={"value": float("nan")})], "value must be a probability"),
    ([feed(rule={"ttl_s": 10})], "ttl_s must be a whole number of seconds from 60"),
    ([feed(rule={"markets": []})], "markets (required)"),
    ([feed(rule={"markets": {"filter": {"min_volume": -1}}})], "filter.min_volume"),
    ([feed(name=f"f{n}") for n in range(MAX_FEEDS + 1)], f"at most {MAX_FEEDS} feeds"),
])
def test_what_is_refused_is_named(raw: Any, message: str) -> None:
    assert message in refused(raw)


def test_the_configuration_writer_refuses_bad_feeds_and_stores_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    migrate(path)
    db = Database(path)
    try:
        with db.write() as conn:
            config_rows = conn.execute(text("SELECT COUNT(*) FROM settings WHERE key = 'news_feeds'")).scalar()
        with pytest.raises(config.ConfigError) as err:
            config.save_setting(db, key="news_feeds", value=json.dumps([feed(rule={"pattern": "(a+)+$"})]),
                                version=None, actor="test")
        assert "News feeds: feed 'wires' rule 1: pattern is too slow" in str(err.value)
        with pytest.raises(config.ConfigError, match="nested too deeply"):
            config.save_setting(db, key="news_feeds", value="[" * 50 + "]" * 50, version=None, actor="test")
        saved = config.save_setting(db, key="news_feeds", value=json.dumps([feed()]), version=None, actor="test")
        with db.read() as conn:
            stored, problems = load_with_problems(conn)
            audit = conn.execute(
                text("SELECT action FROM audit_log WHERE entity = 'settings:news_feeds'")).scalars().all()
    finally:
        db.dispose()
    assert config_rows == 0 and saved.version == 1
    assert stored.news_feeds[0]["rules"][0]["keywords"] == ["rate cut"] and problems == []
    assert audit == ["setting.update"]
