"""The Backtest page launches a real `python -m engine backtest --run-id N` in the background on
a small synthetic recording, returns at once, and shows the run's metrics and charts when the
process has finished."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from pages.widgets import report_tab
from pages.widgets.backtest_launch import pid_alive
from storage.sqlite.db import Database
from tests.dashboard.conftest import chart_traces, table_with
from tests.dashboard.test_backtest_page import P, chart_titles
from tests.helpers import ROOT, wait_until

sys.path.insert(0, str(ROOT / "bench"))
from _recording import write_recording  # noqa: E402

FINISH_TIMEOUT_S = 60


def _run_row(db: Database) -> dict | None:
    with db.read() as conn:
        row = conn.execute(text("SELECT * FROM strategy_runs ORDER BY id DESC LIMIT 1")).mappings().first()
    return None if row is None else dict(row)


def _stop(pid: int | None) -> None:
    if pid is not None and pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):  # it may end between the look and the kill
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), timeout=5, what="the backtest process to exit")


def test_launch_runs_in_the_background_and_shows_its_results(
    dash_env: Path,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    page: Callable[[str], AppTest],
) -> None:
    monkeypatch.setenv("ENGINE_LOG_FILE", str(tmp_path / "engine.log"))
    monkeypatch.setattr(report_tab, "_BUILT", type(report_tab._BUILT)())  # (not another test's backtest #1)
    markets, start, end = write_recording(dash_env, markets=2, events=2_000)
    at = page("backtest")
    assert at.multiselect(key="bt_markets").label == "Markets (2 with ticks in the range)"
    at.multiselect(key="bt_markets").set_value(markets).run()
    at.text_input(key=f"{P}size").input("20")
    at.text_input(key=f"{P}max_spread").input("0.5")
    at.number_input(key="bt_seed").set_value(3)
    assert at.text_input(key="bt_latency").value == "constant:150,150,50"  # the desk's realistic default
    at.text_input(key="bt_latency").input("quick")
    at.button(key="bt_launch").click().run()
    assert _run_row(db) is None  # a latency it cannot read launches nothing, and says so under the field
    assert any(e.value.startswith("Latency: latency 'quick' is not understood") for e in at.error)
    at.text_input(key="bt_latency").input("Constant:200,200,50")
    at.text_input(key="bt_name").input("synthetic")
    at.button(key="bt_launch").click().run()
    row = _run_row(db)
    assert row is not None
    try:
        assert not at.exception and not [e.value for e in at.error if "heartbeat" not in e.value]
        assert any(s.value.startswith("Backtest #1 launched (pid ") for s in at.success)
        # The page did not wait: the run is listed as starting or running.
        assert table_with(at, "shown_status")["shown_status"].tolist()[0] in ("starting", "running")
        assert (row["strategy_kind"], row["seed"], row["source"], row["name"], row["latency"]) == (
            "market_making",
            3,
            "recorded",
            "synthetic",
            "constant:200,200,50",
        )
        assert json.loads(row["markets"]) == markets and json.loads(row["params"])["size"] == 20
        assert row["from_at"] <= start and row["to_at"] >= end
        with db.read() as conn:
            audit = conn.execute(
                text("SELECT actor, entity, after FROM audit_log WHERE action = 'backtest.launch'")
            ).all()
        assert [(a, e) for a, e, _ in audit] == [("dashboard", "backtest_run:1")]
        assert json.loads(audit[0][2])["markets"] == markets

        done = wait_until(
            lambda: (r := _run_row(db)) is not None and r["status"] != "running" and r,
            timeout=FINISH_TIMEOUT_S,
            interval=0.2,
            what="the backtest to finish",
        )
        assert done["status"] == "done", (tmp_path / "backtest-1.log").read_text()
        assert done["pid"] is not None and done["progress"] == 1000
    finally:
        _stop((_run_row(db) or {}).get("pid"))

    at.run()
    assert not at.exception
    assert table_with(at, "shown_status")["shown_status"].tolist() == ["done"]
    metrics = {m.label: m.value for m in at.metric}
    notes = {m.label: m.delta for m in at.metric}  # a figure's qualifier, under it
    result = json.loads(done["metrics"])
    assert metrics["Start equity (pUSD)"] == f"{result['start_equity']:,.2f}"
    assert metrics["Decisions"] == f"{result['decisions']:,} decisions" and result["decisions"] > 0
    assert metrics["Fills"] == f"{result['trades']:,} fills"
    assert result["annualized_return"] is None and metrics["Annualized return"] == "—"  # a short run: its reason
    assert "needs 30 days" in notes["Annualized return"]  # under the figure
    assert ("over" in (notes["Average holding period"] or "")) == (result["round_trips"] > 0)
    titles = chart_titles(at)
    assert titles[:4] == ["Equity and drawdown (run #1)", "Exposure", "Fills", "Profit by day (run #1)"]
    # The most traded token's mid with the run's trades on it, and the run's orders kept.
    assert titles[4].endswith(": trades on the price") and len(titles) == 5
    price = chart_traces(at.get("plotly_chart")[4])
    markers = {"buys (size ∝ sh)", "sells (size ∝ sh)"} & set(price)
    assert "mid" in price and {"resting buys", "resting sells"} & set(price)
    assert bool(markers) == (result["trades"] > 0)  # fills drawn when the run filled
    orders = table_with(at, "tif")
    assert len(orders) > 0 and set(orders["tif"]) <= {"GTC", "GTD", "FOK", "FAK"}
    assert [b.proto.label for b in at.get("download_button")] == ["Report (HTML)", "Fills (CSV)", "Orders (CSV)"]
    # The report opens in a tab as well: a link to the same HTML, served by the dashboard inline.
    # (The browser walk opens it and reads what the dashboard serves: tests/browser/trading.py.)
    (tab,) = [b.proto for b in at.get("link_button") if b.proto.label == "Open the report"]
    assert "/media/" in tab.url and tab.url.endswith(".html")  # (AppTest serves from /mock/media/)
    (kept,) = [html for key, html in report_tab._BUILT.items() if key[:2] == ("backtest", 1)]
    assert kept.startswith(b"<!DOCTYPE html>") and b"Backtest #1" in kept
    assert any(f"seed 3 · {done['events']:,} events" in c.value for c in at.caption)
    assert result["latency"]["model"] == "constant:200,200,50"  # the run used what the form asked
    assert any(c.value.startswith("Latency: constant: orders 200 ms, cancels 200 ms, market data 50 ms behind.")
               for c in at.caption)
    assert "backtest #1" in (tmp_path / "backtest-1.log").read_text()  # the CLI's progress, in its log


def _state(pid: int) -> str | None:
    """The process state letter from /proc (Z: a zombie, nobody reaped it), None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except FileNotFoundError:
        return None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc to see zombies")
def test_a_finished_launch_leaves_no_zombie_behind(dash_env: Path, db: Database, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody asks about a run once it is done, so its exit must be reaped without being asked:
    each launch used to leave a <defunct> child of the dashboard."""
    from pages.widgets.backtest_launch import launch, make_spec

    monkeypatch.setenv("ENGINE_LOG_FILE", str(tmp_path / "engine.log"))  # its log goes beside it
    markets, start, end = write_recording(dash_env, markets=1, events=300)
    spec = make_spec(kind="market_making", params={"size": 20}, from_ms=start, to_ms=end,
                     markets=tuple(markets), seed=0, source="recorded")
    launched = launch(db, spec, "reaped", root=ROOT, actor="test")
    try:
        wait_until(lambda: (r := _run_row(db)) is not None and r["status"] != "running", timeout=FINISH_TIMEOUT_S,
                   interval=0.2, what="the backtest to finish")
        wait_until(lambda: _state(launched.pid) is None, timeout=15, interval=0.1,
                   what=f"the finished backtest (pid {launched.pid}) reaped, not left a zombie")
    finally:
        _stop(launched.pid)
