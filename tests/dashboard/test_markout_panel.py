"""The Strategies page's markout section: each strategy's markout curve (bps by horizon) and
its figures per market, from the fills' markouts the engine wrote."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from charts.tables import headers
from pages.widgets.markout_panel import COLUMNS
from storage.sqlite.db import Database
from tests.dashboard.conftest import chart_traces


def _markouts(db: Database, rows: list[tuple[str, str, int, int]]) -> None:
    """(trade id, horizon, later mid, markout) for the seeded fills (BUY 10 at 0.47 each)."""
    with db.write() as conn:
        for trade, horizon, mid, value in rows:
            conn.execute(text("""INSERT INTO fill_markouts (fill_id, horizon, mode, strategy, condition_id, notional,
                                                            mid, markout, computed_at)
                                 SELECT id, :h, mode, strategy, condition_id, price * size / 1000000, :mid, :v, 0
                                 FROM fills WHERE trade_id = :t"""),
                         {"t": trade, "h": horizon, "mid": mid, "v": value})


def test_the_markout_curve_and_table_show_what_the_fills_earned(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    _markouts(db, [("t1", "1s", 480_000, 100_000), ("t1", "10s", 450_000, -200_000),
                   ("t2", "1s", 460_000, -100_000)])
    at = page("strategies")
    assert not at.exception
    at.toggle(key="cols_markouts").set_value(True).run()  # every column: the notional too
    shown = headers(COLUMNS)
    tables = [t.value for t in at.table if tuple(t.value.columns) == tuple(shown.values())]
    assert len(tables) == 1
    row = tables[0].set_axis(list(COLUMNS), axis=1).set_index("strategy").loc["mm-btc"]
    assert row["fills"] == 2 and row["notional"] == pytest.approx(9.4)
    assert row["usdc_1s"] == pytest.approx(0.0) and row["bps_1s"] == pytest.approx(0.0)
    assert row["usdc_10s"] == pytest.approx(-0.2)
    assert row["bps_10s"] == pytest.approx(-0.2 / 4.7 * 10_000)  # over the one fill that has 10 s
    chart = next(c for c in at.get("plotly_chart") if "mid did after" in c.proto.spec)
    curve = chart_traces(chart)["mm-btc"]
    assert curve["x"] == ["1 s", "10 s", "60 s", "resolution"]
    assert curve["y"][:2] == pytest.approx([0.0, -0.2 / 4.7 * 10_000]) and curve["y"][2:] == [None, None]


def test_without_markouts_the_chart_says_when_they_come(seeded: int, page: Callable[[str], AppTest]) -> None:
    at = page("strategies")
    assert not at.exception
    chart = next(c for c in at.get("plotly_chart") if "mid did after" in c.proto.spec)
    assert "No markouts yet" in chart.proto.spec
