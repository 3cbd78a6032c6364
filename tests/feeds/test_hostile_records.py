"""Outside feeds survive a bad record: a record that cannot be read, or a price no market could
have, is counted and left out, the good records beside it kept, and the desk alerts it once a run
(engine/feeds/plausible.py, engine/trading/lookouts/lookout.py). The spot streams and the reference feed
here, fed hostile records in the middle of good ones as their sockets hand them over."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from contracts.runtime_settings import checked
from engine.execution.bus import EventBus
from engine.feeds.plausible import CONFIRMATIONS, MoveGuard
from engine.feeds.reference import ReferenceFeed
from engine.feeds.spot import SpotFeed
from engine.trading.lookouts.lookout import Lookout
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate


class Clock:
    def __init__(self) -> None:
        self.ms = 1_764_000_000_000

    def __call__(self) -> int:
        return self.ms


def _okx(*prices: str) -> str:
    return json.dumps({"arg": {"channel": "tickers"}, "data": [{"instId": "BTC-USDT", "last": p} for p in prices]})


def test_a_poisoned_spot_price_is_refused_where_it_enters_and_the_good_ones_beside_it_are_kept() -> None:
    clock = Clock()
    feed = SpotFeed("okx", "ws://127.0.0.1:1/x", ["btc"], clock_ms=clock)
    for step in range(70):  # a minute and more of good prices, one a second, hostile ones among them
        clock.ms += 1_000
        good = f"{97_000 + step * 3:.1f}"
        hostile = ("5e-324", "1e300", "NaN", "-inf", "97.1", "0")[step % 6]
        feed.on_text(_okx(good, hostile) if step % 2 else _okx(hostile, good))
    assert feed.rejected == 70 and feed.refusals.first is not None and "5e-324" in feed.refusals.first
    prices = [p for _, p in feed.history("btc")]
    assert len(prices) == 70 and all(96_000 < p < 98_000 for p in prices)
    volatility = feed.volatility("btc", clock.ms)  # what failed every pass while 5e-324 was a price
    assert volatility is not None and 0 < volatility < 0.01


def test_an_absurd_move_is_refused_and_a_move_that_holds_is_taken() -> None:
    clock = Clock()
    binance = SpotFeed("binance", "ws://127.0.0.1:1", ["btc"], clock_ms=clock)

    def tick(price: str) -> None:
        clock.ms += 1_000
        binance.on_text(json.dumps({"stream": "btcusdt@ticker", "data": {"e": "24hrTicker", "s": "BTCUSDT",
                                                                         "c": price}}))

    tick("96000")
    tick("96.0")  # 99.9 % down in a second: a bad print, not a reference
    tick("96010")
    assert [p for _, p in binance.history("btc")] == [96000.0, 96010.0] and binance.rejected == 1
    assert "-99.9%" in (binance.refusals.first or "")
    for _ in range(CONFIRMATIONS):  # a move that holds, price after price, is the new level
        tick("70000")
    assert binance.spot("btc") == (70000.0, clock.ms)
    guard = MoveGuard()
    assert guard.refusal("eth", 3000.0, 0) == "" and guard.refusal("eth", 9000.0, 1_000)  # tripled in a second
    assert guard.refusal("eth", 9000.0, 120_000) == ""  # the last taken is long gone: a new level


def test_the_reference_feed_keeps_the_good_records_of_a_list_with_hostile_ones() -> None:
    clock = Clock()
    feed = ReferenceFeed("ws://127.0.0.1:1", clock_ms=clock)
    good = [{"condition_id": "0xa", "price": "0.53"}, {"condition_id": "0xb", "price": 0.25}]
    hostile = [{"condition_id": "0xc", "price": "1e300"}, {"condition_id": "0xd", "price": "Infinity"},
               {"condition_id": "0xe", "price": "9" * 5000}, {"condition_id": 7, "price": "0.5"}, "not a record",
               {"condition_id": "0xf", "price": {"nested": 1}}, {"condition_id": "0xg", "price": "-0.1"}]
    feed.on_text(json.dumps([good[0], *hostile, good[1]]))
    assert feed.reference("0xa") == (530_000, clock.ms) and feed.reference("0xb") == (250_000, clock.ms)
    assert feed.rejected == len(hostile) and feed.refusals.first is not None
    assert all(feed.reference(f"0x{c}") is None for c in "cdefg")


def test_the_first_refused_record_of_each_feed_is_alerted_once_a_run(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    lookout = Lookout(db, EventBus(), Clock(), checked({})[0])
    spot = SpotFeed("okx", "ws://127.0.0.1:1/x", ["btc"], clock_ms=Clock())
    spot.on_text(_okx("97000", "5e-324"))
    for _ in range(3):
        spot.on_text(_okx("1e300"))
        lookout.refused_records({"okx spot stream": spot.refusals, "reference feed": ReferenceFeed("ws://x").refusals})
    with db.read() as conn:
        alerts = conn.execute(text("SELECT level, code, message FROM alerts")).all()
    assert len(alerts) == 1 and alerts[0].code == "FEED_RECORD_REFUSED" and alerts[0].level == "warning"
    assert "okx spot stream" in alerts[0].message and "5e-324" in alerts[0].message
