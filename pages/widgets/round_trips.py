"""Round trips and each fill's PnL after fees (storage/dashboard_queries/trade_queries.py), named by
market question and strategy, newest first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts.tables import Col
from pages.widgets.tables import rows_height, show_table
from storage.dashboard_queries.trade_queries import trades
from storage.sqlite.db import Database

SHOWN = 200
TRIP_COLUMNS = {"closed_at": Col("closed", "time"), "strategy": Col("strategy"), "question": Col("market", "name"),
                "venue": Col("venue"), "outcome": Col("outcome"), "bought": Col("bought", "shares"),
                "net": Col("PnL after fees", "usdc"), "held": Col("held for"), "exit": Col("exit"),
                "realized": Col("realized", "usdc", more=True), "fees": Col("fees", "usdc", more=True),
                "opened_at": Col("opened", "time", more=True)}
FILL_COLUMNS = {"matched_at": Col("matched", "time"), "strategy": Col("strategy"), "question": Col("market", "name"),
                "venue": Col("venue"), "outcome": Col("outcome"), "side": Col("side"), "price": Col("price", "prob"),
                "size": Col("size", "shares"), "realized": Col("PnL after fees", "usdc"), "fee": Col("fee", "usdc"),
                "reason": Col("order by", more=True)}


def held_for(span: object) -> str:
    """A holding time as people say it: "45 s", "12 min", "3 h 05 min", "2 d 4 h"; — while open."""
    if not isinstance(span, pd.Timedelta) or pd.isna(span):
        return "—"
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86_400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{days} d {hours % 24} h"


def round_trips_panel(db: Database, mode: str, strategy: str | None = None) -> None:
    fills, trips = trades(db, mode, strategy=strategy)
    if trips.empty:
        st.info("No trades yet in this mode: round trips appear once a position is bought.")
        return
    closed = trips[trips["exit"] != "open"]
    cols = st.columns(3)
    cols[0].metric("Round trips closed", f"{len(closed):,}")
    cols[1].metric("PnL of closed trips, after fees (pUSD)", f"{closed['net'].sum():+,.2f}",
                   help="Realized less every fee the trips paid, buying and selling")
    cols[2].metric("Won", f"{(closed['net'] > 0).mean():.0%}" if len(closed) else "—",
                   help="Closed trips whose net PnL is above zero")
    shown = trips.head(SHOWN).assign(held=lambda f: f["held_for"].map(held_for))
    st.caption(f"{len(trips):,} round trips, newest first" + (f": the latest {SHOWN} here" if len(trips) > SHOWN
                                                               else ""))
    show_table(shown, TRIP_COLUMNS, height=rows_height(len(shown)), key=f"trips_{strategy or 'all'}")
    st.caption("Fills with the PnL each sale realized after fees (average cost, less its fee and the buying fees of "
               "the shares it sold: a closed trip's sales add up to its PnL after fees), newest first")
    show_table(fills.head(SHOWN), FILL_COLUMNS, height=rows_height(min(len(fills), SHOWN)),
               key=f"trip_fills_{strategy or 'all'}")
