"""Backtest results: the live progress of running runs, the list of past runs, and one run's
metrics, charts and fills."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from charts import backtest as figures
from charts import text
from charts.backtest_format import annualization_note, latency_note, metric_tiles, refusal_rows
from charts.history_words import UNKNOWN, ends_before_resolution, history_words
from charts.profit import PERIODS, period_returns, profit_bars_figure
from charts.tables import Col
from contracts.calibration import Calibration
from pages.widgets import report_tab
from pages.widgets.backtest_launch import LAUNCHED_RUN, Liveness, liveness, log_path
from pages.widgets.calibration_panel import calibration_panel
from pages.widgets.common import live_fragment, plural, utc
from pages.widgets.figures import CHART_CONFIG
from pages.widgets.tables import rows_height, show_table
from reports import backtest as report
from storage.research import backtest_queries
from storage.sqlite.db import Database

PROGRESS_REFRESH_S = 2
RUNNING_SEEN = "bt_running_seen"
RUN_PICK, RUN_PICK_NEXT = "bt_run_pick", "bt_run_pick_next"
BT_TABS, RESULTS = "bt_tab", "Results"
BT_PRICE_TOKEN = "bt_price_token"
PAGE_ROWS = 200  # rows of the fills and orders tables on the page (the CSV and the report have more)
STOPPED = "stopped unexpectedly"
SHOWN_STATUS: dict[Liveness, str] = {
    "alive": "running",
    "starting": "starting",
    "dead": STOPPED,
    "unknown": "running (no pid)",
}
METRIC_COLUMNS = 3
RETURN_COLUMNS = {
    "period": st.column_config.TextColumn("period (UTC)"),
    "from_equity": st.column_config.NumberColumn("from (pUSD)", format="%.2f"),
    "to_equity": st.column_config.NumberColumn("to (pUSD)", format="%.2f"),
    "profit": st.column_config.NumberColumn("profit (pUSD)", format="%+.2f"),
    "return_pct": st.column_config.NumberColumn("return (%)", format="%+.2f"),
}
RUN_COLUMNS = {
    "name": Col("name", "name"),
    "shown_status": Col("status"),
    "progress_pct": Col("progress", "pct"),
    "return_pct": Col("return", "pct"),
    "trades": Col("fills", "int"),
    "market_count": Col("markets", "int"),
    "from_at": Col("from", "time"),
    "to_at": Col("to", "time"),
    "id": Col("run"),
    "kind": Col("kind", more=True),
    "source": Col("data", more=True),
    "events": Col("events", "int", more=True),
    "seed": Col("seed", more=True),
    "created_at": Col("launched", "time", more=True),
}
def run_states(frame: pd.DataFrame, root: Path) -> dict[int, Liveness]:
    """Liveness of each run of a `backtest_runs` frame still marked 'running' (from the frame's
    own pid and launch time: the progress panel has already read the running runs this run)."""
    running = frame[frame["status"] == "running"]
    return {
        int(run.id): liveness(
            None if pd.isna(run.pid) else int(run.pid),
            int(run.created_at.value // 1_000_000),  # UTC timestamp -> epoch ms
            log_path(root, int(run.id)),
        )
        for run in running.itertuples()
    }


def _stopped_message(run_id: int, pid: int | None, root: Path) -> str:
    process = f"its process (pid {pid}) is gone" if pid is not None else "its process never started"
    return (
        f"Backtest #{run_id} stopped unexpectedly: {process} and the run was never finished. "
        f"Its log: `{log_path(root, run_id)}`."
    )


@live_fragment(run_every=PROGRESS_REFRESH_S)
def progress_panel(db: Database, root: Path) -> None:
    """A bar per running run. When the set of running runs changes (one finished, or one was
    launched elsewhere), the whole page reruns so the list and the results catch up."""
    runs = backtest_queries.running_backtests(db)
    ids = {run.id for run in runs}
    seen = st.session_state.get(RUNNING_SEEN)
    st.session_state[RUNNING_SEEN] = ids
    if seen is not None and seen != ids:
        st.rerun()
    for run in runs:
        state = liveness(run.pid, run.created_at, log_path(root, run.id))
        if state == "dead":
            st.error(_stopped_message(run.id, run.pid, root), icon=":material/error:")
            continue
        note = {"starting": " · starting", "unknown": " · started outside the dashboard"}.get(state, "")
        st.progress(
            min(1.0, run.progress / 1000),
            text=f"Backtest #{run.id} {text.markdown(run.name)}: {run.progress / 10:.1f} % · "
                 f"{run.events:,} events{note}",
        )


@live_fragment(run_every=PROGRESS_REFRESH_S)
def launched_progress(db: Database, root: Path) -> None:
    """The run launched from the New backtest tab, followed there: its bar while it runs, then its
    end and a way to its results (the tab stays where the operator launched it)."""
    run_id = st.session_state.get(LAUNCHED_RUN)
    if run_id is None:
        return
    run = backtest_queries.backtest_run(db, run_id)
    if run is None:
        return
    if run.status == "running":
        state = liveness(run.pid, run.created_at, log_path(root, run.id))
        if state == "dead":
            st.error(_stopped_message(run.id, run.pid, root), icon=":material/error:")
            return
        st.progress(min(1.0, run.progress / 1000), text=f"Backtest #{run.id} {text.markdown(run.name)}: "
                    f"{run.progress / 10:.1f} % · {run.events:,} events · {SHOWN_STATUS[state]}")
        return
    st.info(f"Backtest #{run.id} {text.markdown(run.name)}: {run.status}.", icon=":material/flag:")
    if st.button("See its results", key="bt_launched_results", icon=":material/insights:"):
        st.session_state[RUN_PICK_NEXT] = run.id
        st.session_state[f"{BT_TABS}_next"] = RESULTS
        st.rerun(scope="app")


@live_fragment(run_every=PROGRESS_REFRESH_S)
def runs_table(db: Database, root: Path) -> None:
    """Past runs, newest first, refreshed with the progress bars (their status and progress agree)."""
    frame = backtest_queries.backtest_runs(db)
    if frame.empty:
        st.info("No backtests yet: launch one under **New backtest**.", icon=":material/history:")
        return
    states = run_states(frame, root)
    frame["shown_status"] = [
        SHOWN_STATUS[states[i]] if s == "running" and i in states else s
        for i, s in zip(frame["id"], frame["status"], strict=True)
    ]
    frame["return_pct"] = frame["total_return"].astype("float64") * 100
    show_table(frame, RUN_COLUMNS, height=rows_height(len(frame)), key="backtest_runs")


def run_labels(frame: pd.DataFrame) -> dict[int, str]:
    """A run's label in the picker: its id and name, never its status. The browser keeps the label
    it showed and sends it back, so a label that moved from "(starting)" to "(done)" no longer
    matched and the picker stayed on the stale one; the status is in the table above."""
    return {int(i): f"#{i} {name}" for i, name in zip(frame["id"], frame["name"], strict=True)}


def pick_run(frame: pd.DataFrame) -> int | None:
    """The run to show: the operator's pick, or the one just launched, or the newest."""
    ids = [int(i) for i in frame["id"]]
    if not ids:
        return None
    if RUN_PICK_NEXT in st.session_state:
        st.session_state[RUN_PICK] = st.session_state.pop(RUN_PICK_NEXT)
    if st.session_state.get(RUN_PICK) not in ids:
        st.session_state.pop(RUN_PICK, None)
    labels = run_labels(frame)
    return st.selectbox("Show run", ids, key=RUN_PICK, format_func=lambda i: labels.get(i, f"#{i}"))


def _header(run: backtest_queries.BacktestRun, questions: dict[str, str]) -> None:
    st.markdown(f"### #{run.id} {text.markdown(run.name)}")
    markets = text.markdown("; ".join(questions.get(cid, cid) for cid in run.markets) or "every market with data")
    finished = f" · finished {utc(run.finished_at)}" if run.finished_at else ""
    st.caption(
        f"{text.markdown(run.kind)} · {run.source} data · {utc(run.from_at)} → {utc(run.to_at)} · "
        f"seed {run.seed} · "
        f"{run.events:,} events · launched {utc(run.created_at)}{finished} · markets: {markets}"
    )
    with st.expander("Parameters"):
        st.json(run.params)


def _metrics(db: Database, run: backtest_queries.BacktestRun) -> None:
    refusals = (run.metrics or {}).get("refusals")
    note = refusals.get("note") if isinstance(refusals, dict) else ""
    if note:
        st.warning(f"{text.markdown(note)}. Check the size against the markets' minimum and the risk limits.",
                   icon=":material/block:")
    annual = annualization_note(run.metrics)
    if annual:
        st.caption(annual)
    history = (run.metrics or {}).get("history")
    lines = history_words(history) if isinstance(history, dict) else [UNKNOWN]
    if isinstance(history, dict) and (history.get("gaps") or history.get("fair_values_missing")
                                      or (history.get("fair_values") and "fair_values_missing" not in history)
                                      or ends_before_resolution(history)):
        # missing data, fair values the replay did not have (a run before their history: today's values), or
        # positions valued at their last mid at the end
        st.warning(text.markdown(" ".join(lines)), icon=":material/history:")
    else:
        st.caption(text.markdown(" ".join(lines)))
    cols = st.columns(METRIC_COLUMNS)
    for i, (spec, label, figure, note) in enumerate(metric_tiles(run.metrics)):  # the figure fits; its unit labels it
        cols[i % METRIC_COLUMNS].metric(label, figure, delta=note or None, delta_color="off", delta_arrow="off",
                                        help=spec.help)
    latency = latency_note(run.metrics)
    if latency:
        st.caption(latency)  # the desk's own words and figures: nothing foreign to escape
    stated = (run.metrics or {}).get("calibration") or {}
    calibration_panel(db, Calibration.from_json(stated), int(stated.get("stated") or 0),
                      title=f"Calibration (run #{run.id})", key="bt_calibration")
    rows = refusal_rows(run.metrics)
    if rows:
        checked = refusals.get("checked", 0) if isinstance(refusals, dict) else 0
        with st.expander(f"Refused and trimmed quotes by reason ({checked:,} quote checks)"):
            st.dataframe(pd.DataFrame(rows), hide_index=True, key="bt_refusals", placeholder="—")


def _charts(run: backtest_queries.BacktestRun) -> None:
    st.plotly_chart(
        figures.equity_figure(run.curve, f"Equity and drawdown (run #{run.id})"),
        key="bt_equity",
        width="stretch", config=CHART_CONFIG)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(figures.exposure_figure(run.curve, "Exposure"), key="bt_exposure", width="stretch",
            config=CHART_CONFIG)
    with right:
        span = None if run.curve.empty else (run.curve["at"].iloc[0], run.curve["at"].iloc[-1])
        st.plotly_chart(
            figures.trades_figure(run.trades, "Fills", x_range=span), key="bt_trades", width="stretch",
                config=CHART_CONFIG)
    period = st.segmented_control("Profit by", list(PERIODS), default="day", key="bt_profit_by") or "day"
    st.plotly_chart(profit_bars_figure(run.curve, period, f"Profit by {period} (run #{run.id})"), key="bt_profit",
                    width="stretch", config=CHART_CONFIG)
    with st.expander(f"Returns by {period} (table)"):
        st.dataframe(period_returns(run.curve, period), hide_index=True, key="bt_returns", placeholder="—",
                     column_config=RETURN_COLUMNS)
    if run.trades.empty:
        return
    st.caption(report.rows_note(len(run.trades), "fills", "in match order", PAGE_ROWS))
    show_table(run.trades.head(PAGE_ROWS), report.FILL_COLUMNS, height=rows_height(len(run.trades)))


def _prices(db: Database, run: backtest_queries.BacktestRun) -> None:
    """One traded token's mid with the run's fills and resting orders on it (the report draws
    each of the most traded ones)."""
    tokens = report.traded_tokens(run)
    if not tokens:
        return
    st.markdown("**Trades on the price**")
    by_id = {t.token_id: t for t in tokens}
    picked = st.selectbox("Market and outcome", list(by_id), key=BT_PRICE_TOKEN,
                          format_func=lambda t: f"{by_id[t].label} · {plural(by_id[t].fills, 'fill')}")
    st.plotly_chart(report.token_figure(db, run, by_id[picked or tokens[0].token_id]), key="bt_price",
                    width="stretch", config=CHART_CONFIG)
    if len(run.orders) >= report.KEPT_ORDERS:
        st.caption(f"The run kept its first {report.KEPT_ORDERS:,} orders: later ones are not drawn.")
    if not run.orders.empty:
        with st.expander(f"Orders ({len(run.orders):,})"):
            st.caption(report.rows_note(len(run.orders), "orders", "by placement", PAGE_ROWS))
            show_table(report.shown_orders(run).head(PAGE_ROWS), report.ORDER_COLUMNS,
                       height=rows_height(len(run.orders)))


def _downloads(db: Database, run: backtest_queries.BacktestRun) -> None:
    """The run to keep: its report (one HTML file, opens offline; or opened in a tab at once) and its
    fills and orders."""
    stem = f"backtest-{run.id}"
    html = report_tab.built(("backtest", run.id, f"{run.status}:{run.finished_at}"),
                            lambda: report.backtest_report(db, run))
    cols = st.columns(4)
    report_tab.open_in_tab(cols[0], "Open the report", html, key="bt_report_tab")
    cols[1].download_button("Report (HTML)", data=html, file_name=f"{stem}.html",
                            mime="text/html", key="bt_report_html", icon=":material/description:", width="stretch",
                            help="Metrics, charts and tables of this run in one file that opens in any browser")
    cols[2].download_button("Fills (CSV)", data=lambda: report.fills_csv(run), file_name=f"{stem}-fills.csv",
                            mime="text/csv", key="bt_fills_csv", icon=":material/download:", width="stretch",
                            disabled=run.trades.empty)
    cols[3].download_button("Orders (CSV)", data=lambda: report.orders_csv(run), file_name=f"{stem}-orders.csv",
                            mime="text/csv", key="bt_orders_csv", icon=":material/download:", width="stretch",
                            disabled=run.orders.empty)


def run_detail(db: Database, run_id: int, root: Path) -> None:
    run = backtest_queries.backtest_run(db, run_id)
    if run is None:
        st.warning(f"Backtest #{run_id} no longer exists.")
        return
    _header(run, backtest_queries.market_questions(db, run.markets))
    if run.status == "failed":
        log = log_path(root, run.id)
        where = f" Its log: `{log}`." if log.exists() else ""
        st.error(f"This backtest failed: {text.markdown(run.error or 'no message')}.{where}", icon=":material/error:")
        return
    if run.status == "running":
        state = liveness(run.pid, run.created_at, log_path(root, run.id))
        if state == "dead":
            st.error(_stopped_message(run.id, run.pid, root), icon=":material/error:")
        else:
            st.info(
                f"Running (progress at the top of the page): its metrics and charts appear here when it "
                f"finishes. Its log: `{log_path(root, run.id)}`.",
                icon=":material/hourglass_top:",
            )
        return
    _downloads(db, run)
    _metrics(db, run)
    _charts(run)
    _prices(db, run)
