"""News in, where a trader meets it: a real engine paper-trading the simulator with a value-betting
strategy that has no fair value, and an RSS feed served from 127.0.0.1. The operator configures
the feed and its rule through the configuration writer (as the Settings page does); the engine's
poller reads the feed off the trading loop, the matching headline becomes a signal, and the
strategy buys toward it. Nothing trades before the news, and an unrelated headline moves nothing."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from storage.desk import config
from tests.helpers import EngineProcess, isolated_env, seed_desk, wait_until
from tests.news.feeds import FeedServer, Served, feed_server, rss

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=17) as handle:
        yield handle


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as handle:
        yield handle


def _rows(engine: EngineProcess, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(engine.db_path, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


def test_a_headline_served_locally_becomes_a_signal_the_value_bettor_trades_on(
        tmp_path: Path, sim: SimHandle, feeds: FeedServer) -> None:
    market = sim.market(neg_risk=False)
    cid = market["condition_id"]
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port), LOG_LEVEL="INFO")
    seed_desk(Path(env["TRADER_DB"]), strategies=[  # (a news rule's signal states no confidence: no floor)
        ("vb", "value_betting", {"edge": 0.02, "max_order": 10, "max_position": 50, "order_style": "take",
                                 "min_confidence": 0}, [cid])])
    feeds.pages["/wire.xml"] = Served(rss(("Weather: mild week ahead", "nothing for markets", time.time() - 60)))
    engine = EngineProcess(tmp_path, env)
    try:
        engine.start()
        rule = {"signal": "landslide", "keywords": ["landslide victory"], "markets": [cid], "value": 0.97,
                "ttl_s": 3600}
        config.save_setting(engine.db(), key="news_feeds", actor="test", version=1, value=json.dumps(  # the default []
            [{"name": "wire", "url": feeds.url("/wire.xml"), "poll_s": 10, "rules": [rule]}]))
        wait_until(lambda: _rows(engine, "SELECT ok_at FROM news_feeds WHERE name = 'wire'")[0][0]
                   if _rows(engine, "SELECT ok_at FROM news_feeds") else None, 30, 0.1, what="the first poll")
        assert _rows(engine, "SELECT COUNT(*) FROM signals")[0][0] == 0  # the headline matched nothing
        assert _rows(engine, "SELECT COUNT(*) FROM orders WHERE strategy = 'vb'")[0][0] == 0

        feeds.pages["/wire.xml"] = Served(rss(("Weather: mild week ahead", "nothing for markets", time.time() - 60),
                                              ("Exit polls point to a LANDSLIDE VICTORY", "", time.time() - 5),
                                              guid_prefix="v2"))
        [(value, source, detail)] = wait_until(
            lambda: _rows(engine, "SELECT fair_value, source, detail FROM signals WHERE condition_id = ?", cid),
            30, 0.2, what="the signal (next poll within 10 s)")
        assert (value, source, detail) == (970_000, "news:landslide", "Exit polls point to a LANDSLIDE VICTORY")
        [(side, outcome)] = wait_until(
            lambda: _rows(engine, """SELECT DISTINCT side, outcome FROM orders
                                     WHERE strategy = 'vb' AND condition_id = ?""", cid),
            30, 0.2, what="the value bettor's order")
        assert (side, outcome) == ("BUY", "YES")
        assert "news signal" in engine.log()
    finally:
        engine.cleanup()
