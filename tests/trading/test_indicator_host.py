"""Streaming indicators in the engine: one instance per market and variant, shared by the desk's
setting and every strategy that asks for the same; their values reach the strategies' views, are
recorded once a minute for research, and are drawn on the Markets page. Bad names are refused
in words where they are typed."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from contracts.domain import Book, Level, MarketInfo, MarketView
from contracts.indicator_spec import IndicatorError, parse_variant
from contracts.runtime_settings import SettingError, indicator_variants
from engine.feeds.books import BookCache
from engine.strategies.value_betting import ValueBetting
from engine.trading.hosting.indicator_host import IndicatorHost, wanted_indicators
from engine.trading.hosting.strategy_host import Hosted
from storage.dashboard_queries.chart_queries import indicator_series
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

SH = 1_000_000
MARKETS = {cid: MarketInfo(cid, "?", f"Y{cid}", f"N{cid}", tick=10_000, min_size=5 * SH) for cid in ("c1", "c2")}


class Asking(ValueBetting):
    indicators: ClassVar[tuple[str, ...]] = ("twap:60", "velocity:60")


def _views(mid: int, now: int) -> dict[str, MarketView]:
    return {cid: MarketView(info, Book(info.yes_token, (Level(mid - 10_000, SH),), (Level(mid + 10_000, SH),), now),
                            None) for cid, info in MARKETS.items()}


def test_one_instance_per_market_and_variant_serves_everyone_and_is_recorded(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    host = IndicatorHost(db)
    strategies = [Hosted("a", "value_betting", 1, None, Asking("a", {}), ["c1"]),
                  Hosted("b", "value_betting", 1, None, Asking("b", {}), ["c1", "c2"])]
    views = _views(500_000, 0)
    wanted = wanted_indicators("twap:60", views, strategies)
    assert wanted == {"c1": {parse_variant("twap:60"), parse_variant("velocity:60")},
                      "c2": {parse_variant("twap:60"), parse_variant("velocity:60")}}
    host.want(wanted, views, 0)
    assert len(host.instances) == 4  # two markets x two variants, whoever asked
    books = BookCache()
    seen = {}
    for second in range(0, 121, 30):
        mid = 500_000 + second * 100  # the mid climbs 0.006 a minute
        seen = host.observe(_views(mid, second * 1000), books, second * 1000)
    values = seen["c1"].indicators
    assert values["velocity:60"] == pytest.approx(0.006)
    assert 0.5 < values["twap:60"] < 0.512
    series = indicator_series(db, "c1", 0)
    assert set(series["variant"]) == {"twap:60", "velocity:60"}  # recorded (each minute)
    assert sorted({t.timestamp() for t in series["at"]}) == [60.0, 120.0]  # once a minute
    assert len(series) == 4
    db.dispose()


def test_names_are_checked_where_they_are_typed() -> None:
    assert indicator_variants("velocity:30, twap:60 volume_surge:60,600") == "twap:60 velocity:30 volume_surge:60,600"
    for bad, said in (("twap", "is not an indicator"), ("rsi:14", "unknown indicator 'rsi'"),
                      ("volume_surge:60", "takes 2 windows"), ("volume_surge:600,60", "must be longer"),
                      ("twap:0", "a window must be")):
        with pytest.raises(IndicatorError, match=said):
            parse_variant(bad)
    with pytest.raises(SettingError, match="Indicators: unknown indicator"):
        indicator_variants("macd:12")


def test_a_new_indicator_starts_from_the_recorded_ticks_so_a_restart_finds_it_warm(tmp_path: Path) -> None:
    import sqlite3

    migrate(tmp_path / "t.db")
    with sqlite3.connect(tmp_path / "t.db") as conn:  # what the recorder wrote before the restart
        conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                         [(second * 1000, "Yc1", "change", "BUY", 490_000, SH, 500_000 + second * 100)
                          for second in range(0, 61, 10)]
                         + [(55_000, "Nc1", "trade", "BUY", 500_000, 7 * SH, 500_000),
                            (70_000, "Yc1", "change", "BUY", 490_000, SH, 900_000)])  # after now: unseen
    db = Database(tmp_path / "t.db")
    host = IndicatorHost(db)
    views = _views(506_000, 60_000)
    host.want({"c1": {parse_variant("velocity:60"), parse_variant("volume_surge:10,60")}}, views, 60_000)
    velocity = host.instances[("c1", parse_variant("velocity:60"))]
    assert velocity.value == pytest.approx(0.006)  # 0.500 -> 0.506 over the recorded minute, at once
    surge = host.instances[("c1", parse_variant("volume_surge:10,60"))]
    assert surge.value == pytest.approx(6.0)  # 7 shares in the last 10 s against 7 in the minute
    cold = IndicatorHost(db)
    cold.want({"c2": {parse_variant("velocity:60")}}, views, 60_000)  # nothing recorded for c2
    assert cold.instances[("c2", parse_variant("velocity:60"))].value is None
    db.dispose()
