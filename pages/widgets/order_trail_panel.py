"""The order trail on the Audit page: every order a strategy (or the operator) placed, replaced or
cancelled, each refusal or end the venue decided, and each fill, with why, filtered by mode,
strategy, market and order (storage/dashboard_queries/order_trail_queries.py)."""

from __future__ import annotations

import math

import streamlit as st

from charts.tables import Col
from pages.widgets.tables import rows_height, show_table
from pages.widgets.trade_tables import trade_rows
from storage.dashboard_queries import market_queries, trading_queries
from storage.dashboard_queries import order_trail_queries as queries
from storage.sqlite.db import Database

PAGE_SIZE = 100
ALL = "(all)"
T_MODE, T_STRATEGY, T_MARKET = "trail_mode", "trail_strategy", "trail_market"
T_ORDER, T_PAGE = "trail_order", "trail_page"
TRAIL_COLUMNS = {
    "at": Col("at", "time"),
    "event": Col("what"),
    "order_id": Col("order", "int"),
    "strategy": Col("strategy"),
    "question": Col("market", "name"),
    "trade": Col("order is"),
    "price": Col("price", "prob"),
    "size": Col("size", "shares"),
    "why": Col("why", "long"),
    "fill_size": Col("filled", "shares"),
    "gate": Col("risk gate", "long", more=True),  # (details: the key columns fit 1366 px)
    "fill_price": Col("at price", "prob", more=True),
    "fill_fee": Col("fee", "usdc", more=True),
    "mode": Col("mode", more=True),
    "venue": Col("venue", more=True),
    "liquidity": Col("liquidity", more=True),
    "trade_id": Col("trade", more=True),
    "client_id": Col("client id", more=True),
}


def order_trail(db: Database, mode: str) -> None:
    spec = _filters(db, mode)
    if spec is None:
        return
    total = queries.count(db, spec)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = st.pagination(pages, key=T_PAGE) if pages > 1 else 1
    frame = queries.trail(db, spec, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    st.caption(f"{total:,} steps match · page {page} · newest first")
    if frame.empty:
        return
    shown = trade_rows(frame.assign(side=frame["side"].fillna(""), outcome=frame["outcome"].fillna("")))
    show_table(shown, TRAIL_COLUMNS, height=rows_height(len(frame)), key="trail")


def _filters(db: Database, mode: str) -> queries.TrailFilter | None:
    """Mode, strategy, market and order (its id, client id or the venue's id: then in whichever
    mode it was placed); None: an order named that the ledger does not have (said so)."""
    markets = market_queries.market_choices(db)
    labels = dict(zip(markets["condition_id"], markets["label"], strict=True))
    cols = st.columns([1, 1, 2, 1.4])
    modes = [mode, "live" if mode == "paper" else "paper", ALL]
    chosen_mode = cols[0].selectbox("Mode", modes, key=T_MODE)
    strategy = cols[1].selectbox("Strategy", [ALL, *trading_queries.trade_strategies(db)], key=T_STRATEGY)
    market = cols[2].selectbox("Market", [ALL, *labels], key=T_MARKET, format_func=lambda c: labels.get(c, c))
    named = cols[3].text_input("Order", key=T_ORDER, placeholder="id, client id or venue id")
    order_id = None
    if named.strip():
        order_id = queries.order_by_reference(db, named)
        if order_id is None:
            st.warning(f"No order {named.strip()!r} in the ledger (an order's id, its client id or the venue's id).")
            return None
    return queries.TrailFilter(mode=None if chosen_mode == ALL or order_id is not None else chosen_mode,
                               strategy=None if strategy == ALL else strategy,
                               condition_id=None if market == ALL else market, order_id=order_id)
