"""Pages do not repeat the same read within one script run (each rerun costs every read again,
and the live panels rerun every few seconds)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.dashboard_queries import market_queries, portfolio_queries, trading_queries
from storage.dashboard_queries import status_queries as queries
from storage.desk import desk_status
from storage.research import backtest_queries
from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with
from tests.dashboard.seed import BTC
from tests.dashboard.test_backtest_page import insert_run


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Counter[str]]:
    """Count calls of the named storage read functions, wherever they are called from (pages call
    them as <module>.<name>; market_queries also calls its own)."""
    counts: Counter[str] = Counter()
    modules = (queries, market_queries, trading_queries, backtest_queries, portfolio_queries, desk_status)

    def count(*names: str) -> Counter[str]:
        for name in names:
            holders = [m for m in modules if hasattr(m, name)]
            real = getattr(holders[0], name)

            def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                counts[_name] += 1
                return _real(*args, **kwargs)

            for module in holders:
                monkeypatch.setattr(module, name, counted)
        return counts

    return count


def _one_run(at: AppTest, counts: Counter[str]) -> Counter[str]:
    counts.clear()
    at.run()
    assert not at.exception
    return Counter(counts)


def test_risk_page_reads_the_limits_once_for_the_live_panel(
    seeded: int, page: Callable[[str], AppTest], reads: Callable[..., Counter[str]]
) -> None:
    counts = reads("risk_limit_rows")
    at = page("risk")
    # One for the live panel (usage table and exposure chart), one for the limits form.
    assert _one_run(at, counts)["risk_limit_rows"] == 2


def test_backtest_page_reads_the_running_runs_once(
    db: Database, page: Callable[[str], AppTest], reads: Callable[..., Counter[str]]
) -> None:
    insert_run(db, status="running", name="busy", pid=None)
    counts = reads("running_backtests")
    at = page("backtest")
    assert _one_run(at, counts)["running_backtests"] == 1
    assert "busy" in " ".join(str(p.proto) for p in at.get("progress"))  # the panel read it


def test_strategies_page_does_not_reread_the_strategy_it_listed(
    seeded: int, page: Callable[[str], AppTest], reads: Callable[..., Counter[str]]
) -> None:
    counts = reads("strategies", "strategy_row")
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc")
    ran = _one_run(at, counts)
    assert ran["strategies"] == 1 and ran["strategy_row"] == 0  # the edit panel uses the listed row


def test_market_detail_reads_the_tick_bounds_once(
    seeded: int, page: Callable[[str], AppTest], reads: Callable[..., Counter[str]]
) -> None:
    counts = reads("tick_bounds", "latest_book")
    at = page("markets")
    at.selectbox(key="mk_pick").set_value(BTC)
    ran = _one_run(at, counts)
    listed = len(table_with(at, "yes_held"))  # the market list's rows, each with its quotes now
    assert listed >= 2
    # One more of each for the detail: its price chart and its book share one read (a listed market
    # with no tick recorded reads no book: its price is the venue's listing's).
    assert ran["tick_bounds"] == listed + 1
    assert 2 <= ran["latest_book"] <= listed + 1


def test_backtest_form_presets_come_from_the_listed_strategies(
    seeded: int, db: Database, page: Callable[[str], AppTest], reads: Callable[..., Counter[str]]
) -> None:
    with db.write() as conn:
        conn.execute(text("""UPDATE strategies SET params = '{"size": 17}' WHERE name = 'mm-btc'"""))
    counts = reads("strategies", "strategy_row")
    at = page("backtest")
    at.selectbox(key="bt_kind").set_value("market_making").run()
    at.selectbox(key="bt_preset_market_making").set_value("mm-btc")
    ran = _one_run(at, counts)
    assert ran["strategies"] == 1 and ran["strategy_row"] == 0
    assert at.text_input(key="bt_market_making_mm-btc_p_size").value == "17"  # the preset's params
