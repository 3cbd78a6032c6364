"""Orders & trades pieces: the shared filters, paginated tables, cancel, CSV export.

Tables show one page (PAGE_SIZE rows, LIMIT/OFFSET on indexed time columns) and a COUNT for
the pager, so 100 k rows stay fast; the CSV export is generated only when clicked.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import streamlit as st

from charts.tables import STATUS_WORDS, Col, order_status_words
from contracts.order_status import FILL_LIFECYCLE, RANK
from pages.widgets.common import flash, read_only, utc_day_ms
from pages.widgets.dialogs import open_dialog
from pages.widgets.tables import rows_height, show_table
from storage.dashboard_queries import market_queries, trading_queries
from storage.sqlite.db import Database

PAGE_SIZE = 100
ALL = "(all)"
# The engine's own status sets, in lifecycle order (rank; ties keep the enum's order).
ORDER_STATUSES = tuple(s.value for s in sorted(RANK, key=RANK.__getitem__))
FILL_STATUSES = tuple(s.value for s in FILL_LIFECYCLE)  # pending, settled, reversed
F_MODE, F_STRATEGY, F_MARKET, F_FROM, F_TO = "tf_mode", "tf_strategy", "tf_market", "tf_from", "tf_to"
O_STATUS, O_OPEN, O_PAGE, O_CSV = "orders_status", "orders_open_only", "orders_page", "orders_csv"
FILL_STATUS, FILL_PAGE, FILL_CSV = "fills_status", "fills_page", "fills_csv"
CANCEL_PICK, CANCEL_OPEN = "cancel_pick", "cancel_open"

# The market's name, then what a trader decides on (it fits 1366 px: the side and outcome read as
# one, "BUY YES"), then the details, shown on demand.
_TRADE = {"question": Col("market", "name"), "trade": Col("trade"), "price": Col("price", "prob"),
          "size": Col("size", "shares")}
_SIDE = {"side": Col("side", more=True), "outcome": Col("outcome", more=True)}
ORDER_COLUMNS = {
    **_TRADE,
    "filled": Col("filled", "shares"),
    "status": Col("status"),
    "ended": Col("why it ended", "long"),
    "strategy": Col("strategy"),
    "created_at": Col("created", "time"),
    "venue": Col("venue"),
    **_SIDE,
    "id": Col("id", more=True),
    "mode": Col("mode", more=True),
    "tif": Col("tif", more=True),
    "reason": Col("placed for", "long", more=True),
    "error": Col("venue's words", "long", more=True),
}
FILL_COLUMNS = {
    **_TRADE,
    "notional": Col("value", "usdc"),
    "fee": Col("fee", "usdc"),
    "strategy": Col("strategy"),
    "matched_at": Col("matched", "time"),
    "venue": Col("venue"),
    **_SIDE,
    "status": Col("status", more=True),
    "liquidity": Col("liquidity", more=True),
    "id": Col("id", more=True),
    "order_id": Col("order", more=True),
    "mode": Col("mode", more=True),
}


# A strategy's own orders on its page: what it did and why each ended, newest first.
STRATEGY_ORDER_COLUMNS = {
    **_TRADE,
    "filled": Col("filled", "shares"),
    "status": Col("status"),
    "ended": Col("why it ended", "long"),
    "created_at": Col("created", "time"),
    "venue": Col("venue"),
    **_SIDE,
    "reason": Col("placed for", "long", more=True),
}


def trade_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Orders or fills with their side and outcome read as one ("BUY YES")."""
    return frame.assign(trade=frame["side"].astype(str) + " " + frame["outcome"].astype(str))


def order_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Orders as the tables show them: the engine's statuses in words a paper desk reads right."""
    return trade_rows(frame).assign(status=order_status_words(frame["status"]))


def filters(db: Database, mode: str) -> trading_queries.TradeFilter:
    """Mode, strategy, market and a UTC date range, shared by both tables."""
    markets = market_queries.market_choices(db)
    labels = dict(zip(markets["condition_id"], markets["label"], strict=True))
    cols = st.columns(5)
    modes = [mode, "live" if mode == "paper" else "paper", ALL]
    chosen_mode = cols[0].selectbox("Mode", modes, key=F_MODE)
    strategy = cols[1].selectbox("Strategy", [ALL, *trading_queries.trade_strategies(db)], key=F_STRATEGY)
    market = cols[2].selectbox("Market", [ALL, *labels], key=F_MARKET, format_func=lambda c: labels.get(c, c))
    since = cols[3].date_input("From (UTC date)", value=None, key=F_FROM)
    until = cols[4].date_input("To (UTC date, inclusive)", value=None, key=F_TO)
    if since and until and since > until:
        st.error("The range ends before it starts: showing nothing until it is fixed.")
        until = since - timedelta(days=1)
    return trading_queries.TradeFilter(
        mode=None if chosen_mode == ALL else chosen_mode,
        strategy=None if strategy == ALL else strategy,
        condition_id=None if market == ALL else market,
        since_ms=utc_day_ms(since, end=False),
        until_ms=utc_day_ms(until, end=True),
    )


def _pager(total: int, key: str) -> int:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return st.pagination(pages, key=key) if pages > 1 else 1


def _paged_table(db: Database, spec: trading_queries.TradeFilter, noun: str, keys: tuple[str, str],
                 columns: dict, count, rows, csv) -> None:
    """One page of a filtered table (newest first) and its CSV export: orders and fills alike."""
    page_key, csv_key = keys
    total = count(db, spec)
    page = _pager(total, page_key)
    frame = rows(db, spec, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    st.caption(f"{total:,} {noun} match · page {page} · newest first")
    if not frame.empty:
        shown = order_rows(frame) if noun == "orders" else trade_rows(frame)
        show_table(shown, columns, height=rows_height(len(frame)), key=noun)
    st.download_button(
        f"Export these {noun} (CSV)",
        data=lambda: csv(db, spec),
        file_name=f"{noun}.csv",
        mime="text/csv",
        key=csv_key,
        icon=":material/download:",
        disabled=total == 0,
        help=f"At most {trading_queries.CSV_MAX_ROWS:,} rows, times in UTC",
    )


def orders_table(db: Database, base: trading_queries.TradeFilter) -> None:
    cols = st.columns([3, 1])
    statuses = cols[0].multiselect("Status", ORDER_STATUSES, key=O_STATUS,
                                   format_func=lambda s: STATUS_WORDS.get(s, s))
    open_only = cols[1].toggle("Working orders only", key=O_OPEN)
    spec = trading_queries.TradeFilter(**{**base.__dict__, "statuses": tuple(statuses), "open_only": open_only})
    _paged_table(db, spec, "orders", (O_PAGE, O_CSV), ORDER_COLUMNS,
                 trading_queries.count_orders, trading_queries.orders, trading_queries.orders_csv)


def strategy_orders(db: Database, mode: str, name: str) -> None:
    """One strategy's latest orders in `mode` with why each ended (the whole list, filtered and
    exportable, is on Orders & trades)."""
    spec = trading_queries.TradeFilter(mode=mode, strategy=name)
    total = trading_queries.count_orders(db, spec)
    if total == 0:
        st.caption(f"No {mode} orders yet.")
        return
    frame = trading_queries.orders(db, spec, limit=PAGE_SIZE)
    st.caption(f"{total:,} {mode} orders · the newest {len(frame):,} here; all of them, filtered and exportable, "
               "on Orders & trades (Strategy filter)")
    show_table(order_rows(frame), STRATEGY_ORDER_COLUMNS, height=rows_height(len(frame)), key="strategy_orders")


def fills_table(db: Database, base: trading_queries.TradeFilter) -> None:
    statuses = st.multiselect(
        "Fill status",
        FILL_STATUSES,
        key=FILL_STATUS,
        help="MATCHED_NOT_BROADCASTED, MATCHED and RETRYING are pending; MINED and CONFIRMED are settled; "
             "FAILED reverses",
    )
    spec = trading_queries.TradeFilter(**{**base.__dict__, "statuses": tuple(statuses)})
    _paged_table(db, spec, "fills", (FILL_PAGE, FILL_CSV), FILL_COLUMNS,
                 trading_queries.count_fills, trading_queries.fills, trading_queries.fills_csv)


def _summary(row: dict) -> str:
    return (
        f"{row['strategy']} · {row['side']} {row['remaining']:,.2f} sh {row['outcome']} "
        f"@ {row['price']:.4f} · "
        f"{row['question'] or row['condition_id']} · {STATUS_WORDS.get(row['status'], row['status'])}"
    )


def cancel_picker(db: Database, mode: str) -> None:
    working = trading_queries.orders(db, trading_queries.TradeFilter(mode=mode, open_only=True), limit=200)
    flash(near=CANCEL_OPEN)  # the cancel's answer, here by the picker
    if working.empty:
        st.caption(f"No working {mode} orders.")
        return
    if read_only("cancelling an order"):
        return
    rows = {int(r["id"]): r for r in working.to_dict("records")}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    pick = left.selectbox(
        f"Working {mode} orders",
        list(rows),
        key=CANCEL_PICK,
        format_func=lambda i: f"#{i} · {_summary(rows[i])}",
    )
    if right.button("Cancel order…", key=CANCEL_OPEN, icon=":material/cancel:"):
        open_dialog("cancel_order", near=CANCEL_OPEN, id=pick, summary=_summary(rows[pick]))
