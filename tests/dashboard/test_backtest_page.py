"""Backtest page: empty and with past runs (done, failed, running, died), every invalid launch
refused with its message and nothing written, and two runs compared side by side."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.strategy_fit import below_minimum
from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with
from tests.dashboard.reading import as_read
from tests.dashboard.seed import BTC, ELECTION

P = "bt_market_making_defaults_p_"  # the params fields' key prefix for the default kind and preset
DEAD_PID = 2**30  # above any pid_max: never a live process
METRICS = {
    "start_equity": 10_000.0,
    "end_equity": 10_150.5,
    "total_return": 0.01505,
    "sharpe": 1.234,
    "sortino": None,
    "max_drawdown": 0.0125,
    "calmar": None,
    "win_rate": 0.6,
    "profit_factor": 1.8,
    "trades": 4,
    "fees": 0.12,
    "avg_exposure": 120.0,
    "max_exposure": 240.5,
    "decisions": 50,
    "interval_fills": 4,  # too few fills for an interval: the PnL says so
}


def insert_run(
    db: Database, *, status: str = "done", name: str = "mm run", start: int = 1_800_000_000_000, **values: Any
) -> int:
    """A strategy_runs row as the backtest process leaves it (results for a 'done' run)."""
    done = status == "done"
    curve = [[start + i * 60_000, 10_000 + 50 * i - (120 if i == 2 else 0), 100.0 + i] for i in range(4)]
    fills = [
        {
            "matched_at": start + 60_000,
            "condition_id": BTC,
            "token_id": "tok-btc-yes",
            "outcome": "YES",
            "side": "BUY",
            "price": 480_000,
            "size": 20_000_000,
            "fee": 0,
            "liquidity": "maker",
            "status": "CONFIRMED",
            "trade_id": "t1",
        },
        {
            "matched_at": start + 120_000,
            "condition_id": BTC,
            "token_id": "tok-btc-yes",
            "outcome": "YES",
            "side": "SELL",
            "price": 500_000,
            "size": 20_000_000,
            "fee": 120_000,
            "liquidity": "taker",
            "status": "CONFIRMED",
            "trade_id": "t2",
        },
    ]
    row = {
        "name": name,
        "created_at": start,
        "status": status,
        "strategy_kind": "market_making",
        "params": json.dumps({"size": 10, "half_spread": 0.02}),
        "markets": json.dumps([BTC]),
        "from_at": start,
        "to_at": start + 3_600_000,
        "seed": 7,
        "source": "recorded",
        "progress": 1000 if done else 420,
        "events": 5_000 if done else 2_100,
        "finished_at": start + 5_000 if status != "running" else None,
        "metrics": json.dumps(METRICS) if done else None,
        "equity_curve": json.dumps(curve) if done else None,
        "trades": json.dumps(fills) if done else None,
        "error": None,
        "pid": None,
    }
    row.update(values)
    names, marks = ", ".join(row), ", ".join(f":{k}" for k in row)
    with db.write() as conn:
        sql = text(f"INSERT INTO strategy_runs ({names}) VALUES ({marks}) RETURNING id")
        return int(conn.execute(sql, row).scalar_one())


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _texts(at: AppTest) -> str:
    parts = [*at.markdown, *at.caption, *at.error, *at.info, *at.warning, *at.success]
    return "\n".join(str(p.value) for p in parts)


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Backtest logs go beside the engine log: keep both in the test's folder."""
    monkeypatch.setenv("ENGINE_LOG_FILE", str(tmp_path / "engine.log"))
    return tmp_path


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process whose command line says 'backtest', standing in for a running run."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "backtest"])
    yield proc
    proc.kill()
    proc.wait()


def test_empty_database(db: Database, logs: Path, page: Callable[[str], AppTest]) -> None:
    at = page("backtest")
    assert not at.exception
    texts = _texts(at)
    assert "No backtests yet" in texts and "Comparing needs two finished backtests (0 so far)." in texts
    assert "No ticks yet. The engine records while it runs." in texts
    assert at.multiselect(key="bt_markets").label == "Markets (0 with ticks in the range)"
    assert not at.get("plotly_chart")


def test_past_runs_with_metrics_and_charts(
    seeded: int, db: Database, logs: Path, page: Callable[[str], AppTest], sleeper: subprocess.Popen[bytes]
) -> None:
    insert_run(db, name="first")
    insert_run(db, status="failed", name="broken", error="no recorded data between the given times")
    insert_run(db, status="running", name="busy", pid=sleeper.pid)
    insert_run(db, status="running", name="died", pid=DEAD_PID)
    at = page("backtest")
    assert not at.exception
    runs = table_with(at, "shown_status").set_index("id")
    assert list(runs.index) == [4, 3, 2, 1]  # newest first
    assert list(runs["shown_status"]) == ["stopped unexpectedly", "running", "failed", "done"]
    assert runs.loc[1, "return_pct"] == pytest.approx(1.505) and runs.loc[1, "market_count"] == 1
    # The progress panel: a bar for the live run, the dead one called out with its log.
    bars = [p.proto.text for p in at.get("progress")]
    assert bars == ["Backtest #3 busy: 42.0 % · 2,100 events"]
    assert any(
        "Backtest #4 stopped unexpectedly: its process (pid 1073741824) is gone" in e.value
        and str(logs / "backtest-4.log") in e.value
        for e in at.error
    )
    # The newest run is shown first; pick the finished one. The labels hold no status, which
    # changes while the browser keeps the label it showed (a run stayed "(starting)" when done).
    assert at.selectbox(key="bt_run_pick").options == ["#4 died", "#3 busy", "#2 broken", "#1 first"]
    at.selectbox(key="bt_run_pick").set_value(1).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Start equity (pUSD)"] == "10,000.00" and metrics["End equity (pUSD)"] == "10,150.50"
    assert metrics["Total return"] == "+1.50 %" and metrics["Max drawdown"] == "1.25 %"
    assert metrics["Sharpe (annualized)"] == "1.23" and metrics["Sortino (annualized)"] == "—"
    assert metrics["Calmar"] == "—" and metrics["Win rate"] == "60.00 %" and metrics["Fills"] == "4 fills"
    assert metrics["Fees (pUSD)"] == "0.12" and metrics["Max exposure (pUSD)"] == "240.50"
    assert metrics["Annualized return"] == "—" and metrics["Average holding period"] == "—"  # stored before both
    pnl = next(m for m in at.metric if m.label == "PnL (pUSD)")
    assert (pnl.value, pnl.proto.delta) == ("+150.50", "no interval: 4 fills")  # (a run kept before round trips)
    returns = next(d.value for d in at.dataframe if "return_pct" in d.value.columns)  # the days' returns table
    assert len(returns) >= 1 and list(returns.columns)[:2] == ["period", "from_equity"]
    assert chart_titles(at) == ["Equity and drawdown (run #1)", "Exposure", "Fills", "Profit by day (run #1)",
                                "Will Bitcoin reach $100k by June? · YES: trades on the price"]
    fills = table_with(at, "liquidity")
    assert list(fills["side"]) == ["BUY", "SELL"] and fills["price"].iloc[1] == pytest.approx(0.5)
    assert fills["size"].iloc[0] == pytest.approx(20) and fills["fee"].iloc[1] == pytest.approx(0.12)
    assert fills["question"].iloc[0] == "Will Bitcoin reach $100k by June?"
    at.selectbox(key="bt_run_pick").set_value(2).run()
    assert any("This backtest failed: no recorded data between the given times." in e.value for e in at.error)


# -- invalid launches ---------------------------------------------------------------------------


def _naive(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)


def _bad_param(at: AppTest, now: int) -> str:
    at.multiselect(key="bt_markets").set_value([BTC])
    at.text_input(key=f"{P}size").input("lots")
    return "Size: must be a number"


def _reversed_range(at: AppTest, now: int) -> str:
    at.multiselect(key="bt_markets").set_value([BTC])
    at.datetime_input(key="bt_from").set_value(_naive(now))
    at.datetime_input(key="bt_to").set_value(_naive(now - 3_600_000))
    return "Range: the start ("


def _no_market(at: AppTest, now: int) -> str:
    at.datetime_input(key="bt_from").set_value(_naive(now + 3_600_000))  # none picked, and none has data there
    at.datetime_input(key="bt_to").set_value(_naive(now + 7_200_000))
    return "Markets: no market has ticks in the range"


def _no_data_in_range(at: AppTest, now: int) -> str:
    at.multiselect(key="bt_markets").set_value([BTC]).run()  # picked while it has data...
    at.datetime_input(key="bt_from").set_value(_naive(now + 3_600_000))  # ...then the range moves past it
    at.datetime_input(key="bt_to").set_value(_naive(now + 7_200_000))
    return "Markets: no ticks between"


@pytest.mark.parametrize("make_bad", [_bad_param, _reversed_range, _no_market, _no_data_in_range])
def test_invalid_input_is_refused_and_nothing_launched(
    seeded: int,
    db: Database,
    logs: Path,
    page: Callable[[str], AppTest],
    make_bad: Callable[[AppTest, int], str],
) -> None:
    at = page("backtest")
    message = make_bad(at, seeded)
    at.button(key="bt_launch").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(e.startswith(message) for e in errors), errors
    assert "Nothing launched: fix the fields marked above." in errors
    assert _rows(db, "SELECT COUNT(*) FROM strategy_runs") == [(0,)]
    assert _rows(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'backtest.launch'") == [(0,)]
    assert not list(logs.glob("backtest-*.log"))


def test_a_market_without_data_is_named(
    seeded: int, db: Database, logs: Path, page: Callable[[str], AppTest]
) -> None:
    at = page("backtest")
    assert at.multiselect(key="bt_markets").label == "Markets (1 with ticks in the range)"
    assert ELECTION not in at.multiselect(key="bt_markets").options  # no ticks: not offered
    _no_data_in_range(at, seeded)
    at.button(key="bt_launch").click().run()
    assert any("for: Will Bitcoin reach $100k by June?" in e.value for e in at.error)


# -- compare ------------------------------------------------------------------------------------


def test_compare_two_runs_side_by_side(
    seeded: int, db: Database, logs: Path, page: Callable[[str], AppTest]
) -> None:
    insert_run(db, name="tight")
    insert_run(
        db,
        name="wide",
        start=1_800_100_000_000,
        params=json.dumps({"size": 30, "half_spread": 0.05}),
        metrics=json.dumps({**METRICS, "end_equity": 9_900.0, "total_return": -0.01, "sharpe": None}),
    )
    insert_run(db, status="failed", name="not offered")
    at = page("backtest")
    assert at.selectbox(key="bt_compare_a").value == 1 and at.selectbox(key="bt_compare_b").value == 2
    assert at.selectbox(key="bt_compare_a").options == ["#2 wide", "#1 tight"]  # finished runs only
    table = table_with(at, "what").set_index("what")
    assert list(table.columns) == ["#1 tight", "#2 wide"]
    assert table.loc["param · size"].tolist() == ["10", "30"]
    assert table.loc["param · half_spread"].tolist() == ["0.02", "0.05"]
    assert table.loc["Total return"].tolist() == ["+1.50 %", "-1.00 %"]
    assert table.loc["Sharpe (annualized)"].tolist() == ["1.23", "—"]
    assert table.loc["End equity"].tolist() == ["10,150.50 pUSD", "9,900.00 pUSD"]
    compare = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert [t["name"] for t in compare["data"]] == ["#1 tight", "#2 wide"]
    at.selectbox(key="bt_compare_b").set_value(1).run()
    assert any("Pick two different runs." in w.value for w in at.warning)


def test_a_size_below_the_markets_minimum_is_warned_before_launch(
    seeded: int, db: Database, logs: Path, page: Callable[[str], AppTest]
) -> None:
    at = page("backtest")
    at.multiselect(key="bt_markets").set_value([BTC]).run()
    assert any("Minimum order size of the picked markets: 5 shares" in c.value for c in at.caption)
    at.text_input(key=f"{P}size").input("2")
    at.button(key="bt_launch").click().run()
    assert not at.exception
    warned = [as_read(w.value) for w in at.warning]
    assert any("the order size (2 shares) is below the minimum of Will Bitcoin reach $100k by June? (5 shares)"
               in w for w in warned), warned
    assert _rows(db, "SELECT COUNT(*) FROM strategy_runs") == [(0,)]
    # At the minimum there is nothing to warn about (the launch itself is tested elsewhere).
    assert below_minimum({"size": 5.0}, {BTC: 5.0}) == (5.0, [])
    assert below_minimum({"half_spread": 0.02}, {BTC: 5.0}) == (None, [])


def test_a_short_run_explains_its_missing_ratios_and_its_refusals(
    seeded: int, db: Database, logs: Path, page: Callable[[str], AppTest]
) -> None:
    refusals = {"checked": 1_000, "refused": {"BELOW_MIN_SIZE": 900}, "trimmed": {"MAX_ORDER_SIZE": 12},
                "refused_share": 0.9,
                "note": "Most quotes were refused: 900 of 1,000 quote checks (90%) by reason: BELOW_MIN_SIZE 900"}
    metrics = {**METRICS, "sharpe": None, "sharpe_per_period": 0.0412, "period_ms": 60_000,
               "return_over_drawdown": 1.204, "not_annualized": "the run spans 3.0 hours; annualized figures "
               "need at least 30 days", "refusals": refusals}
    run_id = insert_run(db, metrics=json.dumps(metrics))
    at = page("backtest")
    at.selectbox(key="bt_run_pick").set_value(run_id).run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Sharpe (annualized)"] == "—" and shown["Sharpe (per period)"] == "0.04"
    assert shown["Return / max drawdown"] == "1.20"
    assert any("not annualized: the run spans 3.0 hours" in c.value and "1-minute periods" in c.value
               for c in at.caption)
    assert any(as_read(w.value).startswith("Most quotes were refused: 900 of 1,000") for w in at.warning)
    counts = table_with(at, "reason")
    assert counts.values.tolist() == [["BELOW_MIN_SIZE", "refused", 900], ["MAX_ORDER_SIZE", "trimmed", 12]]
