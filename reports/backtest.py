"""A finished backtest as the Backtest page shows it, to keep: one self-contained HTML report
(metrics, equity and drawdown, exposure, fills over time, the trades on each traded market's
price, the fills and orders tables) and CSV files of its fills and orders.

The page and `python -m engine backtest ... --report FILE.html` both build it from the run row,
so the file and the screen hold the same figures and tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from charts import backtest as figures
from charts.backtest_format import annualization_note, latency_note, metric_rows, refusal_rows
from charts.history_words import UNKNOWN, history_words
from charts.markouts import run_markout_figure
from charts.profit import period_returns
from charts.tables import TRADE_HEAD, Col, order_status_words
from charts.trades_on_price import trades_on_price_figure
from contracts import spreadsheet_csv
from reports.page import Section, render
from storage.dashboard_queries import chart_queries
from storage.dashboard_queries.market_queries import price_series
from storage.research.backtest_queries import BacktestRun, backtest_run, market_questions
from storage.research.backtest_runs import MAX_ORDERS as KEPT_ORDERS  # a run stores its first orders
from storage.sqlite.db import Database

FILL_COLUMNS = {
    **TRADE_HEAD,
    "value": Col("value", "usdc"),
    "fee": Col("fee", "usdc"),
    "at": Col("matched", "time"),
    "liquidity": Col("liquidity"),
    "status": Col("status"),
}
ORDER_COLUMNS = {
    **TRADE_HEAD,
    "filled": Col("filled", "shares"),
    "status": Col("status"),
    "start": Col("placed", "time"),
    "end": Col("ended", "time"),
    "tif": Col("tif"),
}
MAX_PRICE_CHARTS = 8  # the most traded tokens get a chart of their own in the report
REPORT_ROWS = 2_000  # rows of a table in the report (the CSV files have every one)


@dataclass(frozen=True)
class TradedToken:
    token_id: str
    condition_id: str
    label: str  # "question · YES"
    fills: int
    orders: int


def traded_tokens(run: BacktestRun) -> list[TradedToken]:
    """The tokens the run traded or quoted, most fills first."""
    keys = ["token_id", "condition_id", "question", "outcome"]
    fills = run.trades.groupby(keys, dropna=False).size() if not run.trades.empty else pd.Series(dtype=int)
    orders = run.orders.groupby(keys, dropna=False).size() if not run.orders.empty else pd.Series(dtype=int)
    found = sorted(set(fills.index) | set(orders.index),
                   key=lambda k: (-int(fills.get(k, 0)), -int(orders.get(k, 0)), str(k[2]), str(k[3])))
    return [TradedToken(str(t), str(c), f"{q} · {o}", int(fills.get((t, c, q, o), 0)), int(orders.get((t, c, q, o), 0)))
            for t, c, q, o in found if isinstance(t, str)]


def token_figure(db: Database, run: BacktestRun, token: TradedToken) -> go.Figure:
    """The token's recorded (or imported) mid over the run's range, with the run's fills and
    resting orders on it."""
    if run.source == "history":
        mid = chart_queries.history_series(db, token.token_id, run.from_at, run.to_at)
    else:
        mid = price_series(db, token.token_id, run.from_at, run.to_at)
    fills = run.trades[run.trades["token_id"] == token.token_id].assign(strategy=run.kind)
    orders = run.orders[(run.orders["token_id"] == token.token_id) & run.orders["tif"].isin(chart_queries.RESTING_TIFS)]
    return trades_on_price_figure(mid, fills, orders.assign(strategy=run.kind), f"{token.label}: trades on the price",
                                  until=pd.Timestamp(run.to_at, unit="ms", tz="UTC"))


def shown_orders(run: BacktestRun) -> pd.DataFrame:
    return run.orders.assign(status=order_status_words(run.orders["status"]))


def fills_csv(run: BacktestRun) -> bytes:
    """The run's fills: one row each, human units, ISO times in UTC."""
    return _csv(run.trades, ["at", "condition_id", "question", "token_id", "outcome", "side", "price", "size",
                             "value", "fee", "liquidity", "status"])


def orders_csv(run: BacktestRun) -> bytes:
    return _csv(run.orders, ["start", "end", "condition_id", "question", "token_id", "outcome", "side", "price",
                             "size", "filled", "tif", "status"])


def _csv(frame: pd.DataFrame, columns: list[str]) -> bytes:
    data = frame[columns].copy()
    for column in data.columns:
        if pd.api.types.is_datetime64_any_dtype(data[column]):  # ISO 8601 in UTC, to the millisecond
            data[column] = data[column].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
    return spreadsheet_csv.frame_csv(data)


def _utc(ms: int | None) -> str:
    return "—" if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M:%S UTC")


def facts(run: BacktestRun, questions: dict[str, str]) -> str:
    markets = "; ".join(questions.get(c, c) for c in run.markets) or "every market with data"
    return (f"{run.kind} · {run.source} data · {_utc(run.from_at)} → {_utc(run.to_at)} · seed {run.seed} · "
            f"{run.events:,} events · launched {_utc(run.created_at)} · finished {_utc(run.finished_at)} · "
            f"markets: {markets}")


def _summary(run: BacktestRun) -> Section:
    section = Section("Results")
    refusals = (run.metrics or {}).get("refusals")
    if isinstance(refusals, dict) and refusals.get("note"):
        section.warning(f"{refusals['note']}. Check the size against the markets' minimum and the risk limits.")
    note = annualization_note(run.metrics)
    if note:
        section.text(note)
    section.metrics([(spec.label, value, spec.help) for spec, value in metric_rows(run.metrics)])
    latency = latency_note(run.metrics)
    if latency:
        section.text(latency)
    section.text("Parameters: " + json.dumps(run.params, sort_keys=True))
    rows = refusal_rows(run.metrics)
    if rows:
        counts = {"reason": Col("reason"), "action": Col("action"), "count": Col("quote checks", "int")}
        section.table(pd.DataFrame(rows), counts, "Refused and trimmed quotes by reason")
    return section


def history_lines(run: BacktestRun) -> list[str]:
    """What the run replayed, in sentences: its source, prints or book only, the hours missing,
    which fair values and how its markets ended (runs made before this was kept say so)."""
    history = (run.metrics or {}).get("history")
    return history_words(history) if isinstance(history, dict) else [UNKNOWN]


def _history(run: BacktestRun) -> Section:
    section = Section("History replayed")
    for line in history_lines(run):
        section.text(line)
    return section


DAILY_COLUMNS = {"period": Col("day (UTC)"), "from_equity": Col("from", "usdc"), "to_equity": Col("to", "usdc"),
                 "profit": Col("profit", "usdc"), "return_pct": Col("return (%)", "pct")}


def _daily(run: BacktestRun) -> Section:
    section = Section("Daily returns")
    days = period_returns(run.curve, "day")
    if days.empty:
        return section.text("No equity recorded.")
    return section.table(days, DAILY_COLUMNS, "Each UTC day's change in equity, on the equity it started from")


def _charts(run: BacktestRun) -> Section:
    section = Section("Equity, exposure and fills")
    section.chart(figures.equity_figure(run.curve, f"Equity and drawdown (run #{run.id})"))
    section.chart(figures.exposure_figure(run.curve, "Exposure"))
    span = None if run.curve.empty else (run.curve["at"].iloc[0], run.curve["at"].iloc[-1])
    section.chart(figures.trades_figure(run.trades, "Fills", x_range=span))
    return section


def _markouts(run: BacktestRun) -> Section:
    section = Section("Markouts")
    section.text("The mid's move against the run's fills after 1 s, 10 s, 60 s and at resolution, in bps of the "
                 "notional of the fills each horizon measured (a fill too near the run's end has no later mid): "
                 "above zero the fills earned, below they were picked off. Fees not included.")
    return section.chart(run_markout_figure(run.metrics, "Markout by horizon"))


def _prices(db: Database, run: BacktestRun) -> Section:
    section = Section("Trades on the price")
    tokens = traded_tokens(run)
    if not tokens:
        return section.text("The run placed no order.")
    section.text("Fills as markers sized by shares (buys ▲, sells ▼), resting orders as lines over their lifetime."
                 + (f" The {MAX_PRICE_CHARTS} most traded of {len(tokens)} tokens are drawn."
                    if len(tokens) > MAX_PRICE_CHARTS else "")
                 + (f" The run kept its first {KEPT_ORDERS:,} orders: later ones are not drawn."
                    if len(run.orders) >= KEPT_ORDERS else ""))
    for token in tokens[:MAX_PRICE_CHARTS]:
        section.chart(token_figure(db, run, token))
    return section


def _tables(run: BacktestRun) -> list[Section]:
    fills = Section("Fills")
    if run.trades.empty:
        fills.text("No fills.")
    else:
        fills.table(run.trades.head(REPORT_ROWS), FILL_COLUMNS,
                    rows_note(len(run.trades), "fills", "in match order", REPORT_ROWS))
    orders = Section("Orders")
    if run.orders.empty:
        orders.text("No orders stored for this run (runs made before orders were kept have none).")
    else:
        orders.table(shown_orders(run).head(REPORT_ROWS), ORDER_COLUMNS,
                     rows_note(len(run.orders), "orders", "by placement", REPORT_ROWS))
    return [fills, orders]


def rows_note(total: int, noun: str, order: str, shown: int) -> str:
    """"92 fills, in match order" or "5,000 orders, by placement: the first 2,000 here, every one
    in the CSV" (a run keeps at most 5,000 of each)."""
    kept = f" (a run keeps the first {KEPT_ORDERS:,})" if total >= KEPT_ORDERS else ""
    head = f"{total:,} {noun}, {order}{kept}"
    return head if total <= shown else f"{head}: the first {shown:,} here, every one in the CSV"


def backtest_report(db: Database, run: BacktestRun) -> str:
    """The HTML report of a finished run."""
    questions = market_questions(db, run.markets)
    sections = [_summary(run), _history(run), _charts(run), _daily(run), _markouts(run), _prices(db, run),
                *_tables(run)]
    return render(f"Backtest #{run.id} {run.name}", facts(run, questions), sections)


class ReportError(ValueError):
    """The run cannot be reported (unknown, or not finished)."""


def finished_run(db: Database, run_id: int) -> BacktestRun:
    run = backtest_run(db, run_id)
    if run is None:
        raise ReportError(f"there is no backtest run {run_id}")
    if run.status != "done":
        raise ReportError(f"backtest #{run_id} is {run.status}: only a finished run has a report")
    return run


def write_backtest_report(db: Database, run_id: int, path: Path) -> Path:
    """Write run `run_id`'s report to `path` (through a temporary file: never half a report)."""
    page = backtest_report(db, finished_run(db, run_id))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
