"""The Markets page draws a market's recorded streaming indicators under its price, one row per
variant; a market without any shows no such chart."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database
from tests.dashboard.conftest import chart_traces
from tests.dashboard.seed import BTC
from tests.dashboard.test_backtest_page import chart_titles


def test_recorded_indicators_are_drawn_under_the_price(seeded: int, db: Database,
                                                       page: Callable[[str], AppTest]) -> None:
    at = page("markets")
    at.selectbox(key="mk_pick").set_value(BTC).run()
    assert "Streaming indicators (YES mid)" not in chart_titles(at)
    with db.write() as conn:
        for minute, (twap, speed) in enumerate([(505_000, 1_000), (507_500, 2_500)]):
            at_ms = seeded - (2 - minute) * 60_000
            conn.execute(text("INSERT INTO indicator_values (condition_id, variant, at, value) VALUES "
                              "(:c, 'twap:60', :t, :v), (:c, 'velocity:60', :t, :s)"),
                         {"c": BTC, "t": at_ms, "v": twap, "s": speed})
    at = page("markets")
    at.selectbox(key="mk_pick").set_value(BTC).run()
    assert not at.exception
    chart = next(c for c in at.get("plotly_chart") if c.key == "market_indicators")
    traces = chart_traces(chart)
    assert traces["twap:60"]["y"] == [0.505, 0.5075] and traces["velocity:60"]["y"] == [0.001, 0.0025]
