"""Every page renders on an empty database and on a seeded one, showing what it is for."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database
from tests.dashboard.conftest import chart_traces, table_with
from tests.dashboard.reading import as_read

HOUR = 3_600_000
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
    assert any("REDUCING" in m.value for m in at.markdown)  # the desk's state, once: the header's badge
    assert metrics["Equity (pUSD)"] == "10,100.00"
    assert metrics["Unrealized today (pUSD)"] == "+0.00"  # the seed's stays at -0.40 all day
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


def test_the_overview_puts_the_money_first_and_marks_kills_re_arms_and_going_live(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    """Equity, PnL and each strategy's PnL above the latest commands; a kill, its re-arm and the switch to
    live marked on the equity chart where they happened."""
    from sqlalchemy import text

    with db.write() as conn:
        for n, (kind, ago) in enumerate((("kill", 3), ("rearm", 2))):
            conn.execute(text("""INSERT INTO commands (idempotency_key, kind, status, actor, created_at, finished_at)
                                 VALUES (:k, :kind, 'done', 'dashboard', :at, :at)"""),
                         {"k": f"marked-{n}", "kind": kind, "at": seeded - ago * HOUR})
        conn.execute(text("""INSERT INTO audit_log (at, actor, action, entity, before, after) VALUES
                             (:at, 'dashboard', 'engine.set_mode', 'engine_state', '{"mode": "paper"}',
                              '{"mode": "live"}')"""), {"at": seeded - HOUR})
    at = page("overview")
    headings = [h.value for h in at.subheader]
    assert headings.index("PnL by strategy") < headings.index("Latest commands"), headings
    by_strategy = table_with(at, "net").set_index("strategy")
    assert set(by_strategy.index) == {"mm-btc", "vb-election"}  # every strategy with a position, best net first
    assert list(by_strategy["net"]) == sorted(by_strategy["net"], reverse=True)
    for _, row in by_strategy.iterrows():
        assert row["net"] == pytest.approx(row["realized"] + row["unrealized"])  # realized is after its fees
    assert by_strategy.loc["mm-btc", "unrealized"] == pytest.approx(20 * 0.5075 - 9.4)  # its position at the mark
    equity = json.loads(next(c for c in at.get("plotly_chart") if c.key == "equity_chart").proto.spec)
    marked = sorted((a["text"], a["x"][:13]) for a in equity["layout"]["annotations"])
    hours = [pd.Timestamp(seeded - k * HOUR, unit="ms", tz="UTC").strftime("%Y-%m-%dT%H") for k in (3, 2, 1)]
    assert marked == sorted(zip(("kill", "re-arm", "live"), hours, strict=True)), marked


def test_a_strategys_sections_are_tabs_not_one_long_page(seeded: int, page: Callable[[str], AppTest]) -> None:
    at = page("strategies")
    assert not at.exception
    labels = [t.label for t in at.tabs]
    # Labels never change with the ledger (a tab set whose labels change would jump back to its first).
    assert labels == ["Settings", "Performance", "Orders", "Spread, rewards and fees",
                      "Capital, limits and exits"], labels
    performance = at.tabs[1]
    assert any("performance (paper)" in s.value for s in performance.subheader)  # drawn inside its tab
