"""Every page renders on an empty database and on a seeded one, showing what it is for."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database
from tests.dashboard.conftest import chart_traces, table_with
from tests.dashboard.reading import as_read

PAGES = ("overview", "markets", "orders", "strategies", "risk", "settings", "backtest", "audit")
TITLES = {
    "overview": "Overview",
    "markets": "Markets",
    "orders": "Orders & trades",
    "strategies": "Strategies",
    "risk": "Risk",
    "settings": "Settings",
    "backtest": "Backtest",
    "audit": "Audit & alerts",
}


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [i.value for i in at.info] + [w.value for w in at.warning] + [s.value for s in at.subheader]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_on_an_empty_database(db: Database, page: Callable[[str], AppTest], name: str) -> None:
    at = page(name)
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert at.title[0].value == TITLES[name]
    # The badge and health show on every page: no engine yet, so the heartbeat is stale.
    assert ":blue-badge[:material/description: PAPER]" in [m.value for m in at.markdown]
    assert any("heartbeat is stale" in e.value for e in at.error)


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_on_a_seeded_database(seeded: int, page: Callable[[str], AppTest], name: str) -> None:
    at = page(name)
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert at.title[0].value == TITLES[name]
    markdown = [m.value for m in at.markdown]
    assert ":green-badge[RUNNING]" in markdown and ":orange-badge[REDUCING: exits only]" in markdown
    assert not any("heartbeat is stale" in e.value for e in at.error)


def test_empty_pages_say_what_is_missing(db: Database, page: Callable[[str], AppTest]) -> None:
    assert "No discovered market matches." in _texts(page("markets"))
    assert "No strategies yet" in _texts(page("strategies"))
    assert "No working paper orders." in _texts(page("orders"))
    audit = _texts(page("audit"))
    assert "No alerts match." in audit and "0 entries match" in audit
    overview = _texts(page("overview"))
    assert "No open paper positions." in overview and "No alerts." in overview


def test_overview_shows_pnl_exposure_positions_and_alerts(
    seeded: int, page: Callable[[str], AppTest]
) -> None:
    at = page("overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trading state"] == "REDUCING"
    assert metrics["Equity (pUSD)"] == "10,100.00"
    assert metrics["Unrealized now (pUSD)"] == "-0.40"
    assert any("DAILY_LOSS" in as_read(w.value) for w in at.warning)
    positions = table_with(at, "avg_price")
    assert list(positions["strategy"]) == ["mm-btc"] and positions["size"].iloc[0] == pytest.approx(20.0)
    assert positions["cost"].iloc[0] == pytest.approx(9.4) and positions["mark"].iloc[0] == pytest.approx(
        0.5075
    )
    assert set(table_with(at, "code")["code"]) == {"DAILY_LOSS", "STRATEGY_ERROR"}
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # equity with drawdown, usage against the limits, profit by day
    # The seeded equity went 10,000 -> 10,100 over the last five hours: the days' bars add up to it.
    (bars,) = chart_traces(next(c for c in charts if c.key == "profit_chart")).values()
    assert sum(bars["y"]) == pytest.approx(100.0)


def test_a_strategys_sections_are_tabs_not_one_long_page(seeded: int, page: Callable[[str], AppTest]) -> None:
    at = page("strategies")
    assert not at.exception
    labels = [t.label for t in at.tabs]
    # Labels never change with the ledger (a tab set whose labels change would jump back to its first).
    assert labels == ["Settings", "Performance", "Orders", "Spread, rewards and fees",
                      "Capital, limits and exits"], labels
    performance = at.tabs[1]
    assert any("performance (paper)" in s.value for s in performance.subheader)  # drawn inside its tab
