"""The Signals view on the Markets page (fair values in force and expired, each news feed's last
poll, the latest headlines) and the News feeds editor on the Settings page (saved through the one
configuration writer: a bad rule is refused with its reason and nothing is stored)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import table_with
from tests.dashboard.reading import as_read


def _seed_news(db: Database) -> int:
    now = now_ms()
    with db.write() as conn:
        conn.execute(text("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size,
                             neg_risk, volume, volume_24h, liquidity, tradable, first_seen_at, updated_at)
                             VALUES ('0xfed', 'Will the Fed cut in December?', 'y', 'n', 10000, 5000000, 0, 0, 0, 0,
                             1, 0, 0)"""))
        for source, value, expires, detail in (("news:fed-cut", 800_000, now + 3_600_000, "Fed signals a rate cut"),
                                               ("news:old", 300_000, now - 60_000, "Yesterday's story"),
                                               ("operator", 550_000, None, None)):
            conn.execute(text("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by,
                                 expires_at, detail) VALUES ('0xfed', :s, :v, 1, :now, 'news:wire', :e, :d)"""),
                         {"s": source, "v": value, "now": now, "e": expires, "d": detail})
        conn.execute(text("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by,
                                 expires_at, confidence, via, posted_at)
                             VALUES ('0xfed', 'mymodel', 620000, 1, :now, 'api:mymodel', :e, 800000, 'http', :now)"""),
                     {"now": now, "e": now + 600_000})
        conn.execute(text("""INSERT INTO signal_sources (source, state, brier, markets, judged_at, reason)
                             VALUES ('mymodel', 'benched', 400000, 20, :now, 'Brier 0.4')"""), {"now": now})
        conn.execute(text("""INSERT INTO news_feeds (name, url, polled_at, ok_at, error, entries, matched, updated_at)
                             VALUES ('wire', 'http://127.0.0.1:9/rss', :now, NULL, 'HTTP 503', 0, 0, :now)"""),
                     {"now": now})
        conn.execute(text("""INSERT INTO news_seen (feed, entry_key, title, link, published_at, seen_at, signals,
                                 sentiment)
                             VALUES ('wire', 'id-1', 'Fed signals a rate cut', NULL, :now, :now, 1, -273)"""),
                     {"now": now})
    return now


def test_the_markets_page_shows_signals_with_their_expiry_feeds_and_headlines(
        db: Database, page: Callable[[str], AppTest]) -> None:
    _seed_news(db)
    at = page("markets")
    assert not at.exception
    signals = table_with(at, "in_force")
    by_source = {row["source"]: row for row in signals.to_dict("records")}
    assert by_source["news:fed-cut"]["in_force"] and by_source["operator"]["in_force"]
    assert not by_source["news:old"]["in_force"]
    assert by_source["news:fed-cut"]["fair_value"] == 0.8 and by_source["news:fed-cut"]["detail"] == \
        "Fed signals a rate cut"
    model = by_source["mymodel"]  # an outside model's value, shown with where it came from
    assert (model["confidence"], model["via"], model["updated_by"], model["source_state"]) == \
        (0.8, "http", "api:mymodel", "benched")
    assert not model["in_force"]  # unexpired, but its source is benched
    assert set(signals["source"].tolist()[-2:]) == {"news:old", "mymodel"}  # those not in force last
    assert table_with(at, "matched")["error"].tolist() == ["HTTP 503"]
    assert any("News feed **wire**: HTTP 503" in w.value for w in at.warning)
    headlines = table_with(at, "title")
    assert headlines["title"].tolist() == ["Fed signals a rate cut"]
    assert headlines["sentiment"].tolist() == [pytest.approx(-0.273)]  # scored by the poller, in thousandths


def test_an_empty_desk_says_there_are_no_signals(db: Database, page: Callable[[str], AppTest]) -> None:
    at = page("markets")
    assert not at.exception and any("No signals yet" in c.value for c in at.caption)


def _stored_feeds(db: Database) -> list[object] | None:
    with db.read() as conn:
        raw = conn.execute(text("SELECT value FROM settings WHERE key = 'news_feeds'")).scalar()
    return None if raw is None else json.loads(raw)


def _edits(added: list[dict[str, object]]) -> dict[str, object]:
    """A data editor's edit state with these rows added (what the browser sends)."""
    return {"edited_rows": {}, "added_rows": added, "deleted_rows": []}


def test_news_feeds_are_edited_as_tables_and_every_problem_is_shown_at_once(
        db: Database, page: Callable[[str], AppTest]) -> None:
    at = page("settings")
    feed = {"name": "wire", "url": "http://127.0.0.1:9/rss", "poll_s": 300, "enabled": True}
    slow = {"feed": "wire", "signal": "x", "pattern": "(a+)+$", "market_ids": "0xfed", "value": 0.6, "ttl_s": 600}
    unsure = {"feed": "wire", "signal": "y", "keywords": "rate cut", "market_ids": "0xfed", "value": 1.5,
              "ttl_s": 600}
    at.session_state["news_feeds_table_edit"] = _edits([feed])
    at.session_state["news_rules_table_edit"] = _edits([slow, unsure])
    at.run()
    at.button(key="news_feeds_save").click().run()
    shown = [as_read(e.value) for e in at.error]
    assert any("Rule row 1: " in e and "pattern is too slow" in e and "Rule row 2: " in e
               and "value must be a probability" in e for e in shown), shown  # both, under the rules table
    assert any(e.startswith("Nothing saved: 2 problems") for e in shown), shown
    assert _stored_feeds(db) is None  # nothing saved

    good = {**slow, "pattern": "", "keywords": "rate cut, cuts rates"}
    at.session_state["news_rules_table_edit"] = _edits([good])
    at.run()
    at.button(key="news_feeds_save").click().run()
    stored = _stored_feeds(db)
    assert stored == [{"name": "wire", "url": "http://127.0.0.1:9/rss", "poll_s": 300, "enabled": True, "rules": [
        {"signal": "x", "keywords": ["rate cut", "cuts rates"], "pattern": "", "markets": ["0xfed"], "value": 0.6,
         "ttl_s": 600, "min_sentiment": None, "max_sentiment": None, "sentiment_weight": 0.0}]}]
    with db.read() as conn:
        audited = conn.execute(text("SELECT actor FROM audit_log WHERE entity = 'settings:news_feeds'")).scalars().all()
        reloads = conn.execute(text("SELECT COUNT(*) FROM commands WHERE kind = 'reload_config'")).scalar()
    assert audited == ["dashboard"] and reloads == 1
