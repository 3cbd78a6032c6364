"""The Strategies page's markout section: whether each strategy earns the spread or pays it.
A chart of each strategy's markout curve, then the figures per strategy and market (reads
storage/research/markout_frames.py; definitions in README "Markouts")."""

from __future__ import annotations

import streamlit as st

from charts.markouts import markout_curve_figure
from charts.style import CHART_CONFIG
from charts.tables import Col
from pages.widgets.tables import rows_height, show_table
from storage.research.markout_frames import markout_tables
from storage.sqlite.db import Database

COLUMNS = {
    "market": Col("market", "name"),
    "strategy": Col("strategy"),
    "venue": Col("venue"),
    "fills": Col("fills", "int"),
    "notional": Col("notional", "usdc", more=True),
    "usdc_1s": Col("1 s", "usdc"),
    "bps_1s": Col("1 s (bps)", "int"),
    "usdc_10s": Col("10 s", "usdc"),
    "bps_10s": Col("10 s (bps)", "int"),
    "usdc_60s": Col("60 s", "usdc"),
    "bps_60s": Col("60 s (bps)", "int"),
    "usdc_resolution": Col("at resolution", "usdc"),
    "bps_resolution": Col("at resolution (bps)", "int"),
}


def markout_panel(db: Database, mode: str) -> None:
    st.subheader(f"Markouts ({mode})")
    per_strategy, per_market = markout_tables(db, mode)
    st.plotly_chart(markout_curve_figure(per_strategy, "What the mid did after each strategy's fills"),
                    key="markout_curve", width="stretch", config=CHART_CONFIG)
    st.caption("For a buy, the mid later − the fill price (a sell the other way), × size; bps of the fills' "
               "notional. Above 0 the fills earned the spread; below 0 they were adversely selected (picked "
               "off by better-informed flow). Fees are not included.")
    if not per_market.empty:
        show_table(per_market, COLUMNS, height=rows_height(len(per_market)), key="markouts")
