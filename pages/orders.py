"""Orders & trades: filterable, paginated orders and fills (with their settlement status),
cancelling a working order behind a confirmation, CSV export, and a year's tax lots (Form 8949)."""

from __future__ import annotations

import streamlit as st

from pages.widgets.auth import require_login
from pages.widgets.common import database, live_fragment, live_header
from pages.widgets.dialogs import show_dialog
from pages.widgets.portfolio import paper_ledger_positions, positions_table
from pages.widgets.round_trips import round_trips_panel
from pages.widgets.tax_panel import tax_lots_panel
from pages.widgets.trade_tables import cancel_picker, fills_table, filters, orders_table
from storage.dashboard_queries import status_queries as queries
from storage.dashboard_queries.trading_queries import TradeFilter

ORDERS_REFRESH_S = 5  # the tables follow the engine's fills and cancels without a reload


@live_fragment(run_every=ORDERS_REFRESH_S)
def _orders_and_fills(base: TradeFilter, mode: str) -> None:
    orders_tab, fills_tab, trips_tab = st.tabs(["Orders", "Fills", "Round trips"])
    with orders_tab:
        orders_table(db, base)
    with fills_tab:
        fills_table(db, base)
    with trips_tab:
        round_trips_panel(db, base.mode or mode, base.strategy)


@live_fragment(run_every=ORDERS_REFRESH_S)
def _positions() -> None:
    """The positions to exit follow the ledger as the tables below do: one an exit (or its retry, or a live
    fill reported later) sold is no longer offered under "Position to exit"."""
    mode = queries.engine_status(db).mode
    positions_table(db, mode, key="orders")
    paper_ledger_positions(db, mode, key="orders")


require_login(__file__)  # before anything is read: see pages/widgets/auth.py
db = database()
live_header(db)
st.title("Orders & trades")

mode = queries.engine_status(db).mode
st.subheader("Cancel a working order")
cancel_picker(db, mode)
st.subheader("Exit a position")
_positions()
show_dialog(db, "cancel_order", "exit")
st.subheader("Filters")
base = filters(db, mode)
_orders_and_fills(base, mode)
st.subheader("Tax lots (Form 8949)")
tax_lots_panel(db)
