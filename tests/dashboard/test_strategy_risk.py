"""Strategies page, one strategy's own capital, limits and performance: the limits form validated
by the shared catalogue, versioned and audited; the strategy's own trading state; its PnL curve,
fills, fees, win rate and the backtests' metrics (honest on a short span)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database, now_ms
from tests.dashboard.reading import as_read
from tests.dashboard.seed import BTC, YES_BTC

M = 1_000_000
PREFIX = "sl_mm-btc_"


@pytest.fixture
def mm(seeded: int, page: Callable[[str], AppTest]) -> AppTest:
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert not at.exception
    return at


def _field(at: AppTest, name: str):
    return next(t for t in at.text_input if t.key.startswith(f"{PREFIX}{name}_v"))


def _stored(db: Database) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT name, value, version, updated_by FROM strategy_limits WHERE strategy = 'mm-btc' ORDER BY name"))]


def test_an_allocation_is_validated_saved_versioned_and_audited(mm: AppTest, db: Database) -> None:
    _field(mm, "allocation").input("abc")
    mm.button(key=f"{PREFIX}save").click().run()
    assert any("Nothing saved" in e.value for e in mm.error) and _stored(db) == []
    _field(mm, "allocation").input("500")
    _field(mm, "max_daily_loss").input("25")
    mm.button(key=f"{PREFIX}save").click().run()
    assert not mm.exception
    assert _stored(db) == [("allocation", "500", 1, "dashboard"), ("max_daily_loss", "25", 1, "dashboard")]
    with db.read() as conn:
        audit = conn.execute(text("SELECT COUNT(*) FROM audit_log WHERE action = 'strategy_limit.update'")).scalar()
        reloads = conn.execute(text("SELECT COUNT(*) FROM commands WHERE kind = 'reload_config'")).scalar()
    assert audit == 2 and reloads == 1
    assert any("Saved limits of mm-btc" in as_read(s.value) for s in mm.success)


def test_a_strategy_halted_by_its_own_limit_says_so(seeded: int, db: Database,
                                                     page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategy_risk (mode, strategy, trading_state, reason, state_at, updated_at)
                             VALUES ('paper', 'mm-btc', 'HALTED', 'STRATEGY_DRAWDOWN: 21% from its peak', :n, :n)"""),
                     {"n": now_ms()})
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert any("mm-btc is HALTED" in as_read(w.value) and "STRATEGY_DRAWDOWN" in as_read(w.value)
               and "Other strategies keep trading" in w.value for w in at.warning)


def test_performance_from_snapshots_and_fills(seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    now = now_ms()
    with db.write() as conn:
        conn.execute(text("DELETE FROM strategy_snapshots"))
        for i, (realized, unrealized) in enumerate([(0, 0), (1, 2), (3, -1), (4, 1)]):
            conn.execute(text("""INSERT INTO strategy_snapshots (mode, strategy, at, realized, unrealized, fees,
                                                                 exposure)
                                 VALUES ('paper', 'mm-btc', :at, :r, :u, 0, :e)"""),
                         {"at": now - (4 - i) * 600_000, "r": realized * M, "u": unrealized * M, "e": 10 * M})
        # One closing sell: 10 of the seeded BUYs at 0.47 sold at 0.60, fee 0.01 → +1.29 realized.
        conn.execute(text("""INSERT INTO fills (trade_id, order_id, mode, strategy, condition_id, token_id, outcome,
                                 side, price, size, fee, liquidity, status, status_rank, matched_at, updated_at)
                             VALUES ('t-close', 1, 'paper', 'mm-btc', :c, :t, 'YES', 'SELL', 600000, :s, 10000,
                                     'TAKER', 'CONFIRMED', 30, :n, :n)"""),
                     {"c": BTC, "t": YES_BTC, "s": 10 * M, "n": now})
        conn.execute(text("""INSERT INTO strategy_limits (strategy, name, value, version, updated_at, updated_by)
                             VALUES ('mm-btc', 'allocation', '100', 1, :n, 't')"""), {"n": now})
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    shown = {m.label: m.value for m in at.metric}
    # After fees, as every page reads PnL (issue 87): these snapshots paid no fees, so realized is as booked.
    assert (shown["PnL (pUSD)"], shown["Realized (pUSD)"], shown["Unrealized (pUSD)"]) == ("+5.00", "+4.00", "+1.00")
    assert any(c.value.startswith("PnL and realized are after fees") for c in at.caption)
    assert shown["Win rate"] == "100%"
    assert len([c for c in at.get("plotly_chart")]) >= 1
    table = next(d.value for d in at.dataframe if "metric" in d.value.columns).set_index("metric")["value"]
    assert table["Total return"] == "+5.00 %"  # 100 allocated, 105 at the end
    assert table["Sharpe (annualized)"] == "—"  # 30 minutes of data: never annualized


@pytest.mark.parametrize("garbage", ["abc", "nan", "1e999999"])
def test_a_garbage_stored_allocation_never_breaks_the_page_and_can_be_fixed(
        garbage: str, seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:  # written around the dashboard: a script, a hand edit
        conn.execute(text("""INSERT INTO strategy_limits (strategy, name, value, version, updated_at, updated_by)
                             VALUES ('mm-btc', 'allocation', :v, 1, :n, 'script')"""), {"v": garbage, "n": now_ms()})
        conn.execute(text("""INSERT INTO strategy_snapshots (mode, strategy, at, realized, unrealized, fees, exposure)
                             VALUES ('paper', 'mm-btc', :n, 0, 0, 0, 0)"""), {"n": now_ms()})
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert not at.exception
    assert _field(at, "allocation").value == garbage  # shown as stored, to be fixed
    assert any("set this strategy's allocation" in c.value for c in at.caption)  # no base from a bad value
    _field(at, "allocation").input("200")
    at.button(key=f"{PREFIX}save").click().run()
    assert not at.exception and ("allocation", "200", 2, "dashboard") in _stored(db)
