"""Strategies page, one strategy's liquidity rewards and maker rebates, beside its spread capture,
fees and 60 s markout: how its resting orders score for the venue's reward programs, the rewards
estimated and paid per day and market (storage/engine_stores/reward_queries.py, written by
engine/trading/settlement/rewards.py), and whether its fills earn the spread or pay it
(storage/research/markout_frames.py)."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from charts import text
from pages.widgets import figures
from pages.widgets.common import usdc
from storage.dashboard_queries import strategy_queries
from storage.engine_stores import reward_queries
from storage.research import markout_frames
from storage.sqlite.db import Database


def rewards_panel(db: Database, mode: str, name: str) -> None:
    days = strategy_queries.strategy_rewards(db, mode, name)
    scoring = reward_queries.strategy_scoring(db, mode, name)
    fees = strategy_queries.fills_summary(db, mode, name).fees
    rebates = reward_queries.strategy_rebates(db, mode, name)
    estimated, paid = float(days["estimated"].sum()), float(days["paid"].fillna(0).sum())
    cols = st.columns(5)
    cols[0].metric("Est. rewards (pUSD)", usdc(estimated),
                   help="The desk's share of each program's daily pool, scored every sample with the venue's "
                        "published method against the visible book")
    cols[1].metric("Rewards paid (pUSD)", usdc(paid), help="What the venue paid for the days that ended")
    cols[2].metric("Maker rebates (pUSD)", usdc(rebates),
                   help="The desk's rebates split by this strategy's share of its maker fills")
    cols[3].metric("Fees paid (pUSD)", usdc(fees))
    samples = int(scoring.get("samples") or 0)
    cols[4].metric("Orders scoring", f"{int(scoring.get('scoring_now') or 0)} of {int(scoring.get('orders') or 0)}",
                   help=(f"{int(scoring.get('scored') or 0) / samples:.0%} of order samples scored"
                         if samples else "No resting order sampled in a reward market yet")
                   + (f"; the venue says {int(scoring['venue_scoring'])} of {int(scoring['venue_checked'])} score"
                      if scoring.get("venue_checked") else ""))
    _spread_row(db, mode, name)
    if days.empty:
        st.caption("No reward-market orders yet: rewards are paid on resting orders inside a program's max "
                   "spread and at least its min size (the market maker's reward_qualify does that).")
        return
    st.plotly_chart(_by_day(days, f"{name}: liquidity rewards by day ({mode})"), key=f"strategy_rewards_{name}",
                    width="stretch", config=figures.CHART_CONFIG)
    st.dataframe(days.drop(columns=["condition_id"]), hide_index=True, key=f"strategy_reward_days_{name}",
                 column_config={"estimated": st.column_config.NumberColumn("estimated (pUSD)", format="%.6f"),
                                "paid": st.column_config.NumberColumn("paid (pUSD)", format="%.6f")}, placeholder="—")


def _spread_row(db: Database, mode: str, name: str) -> None:
    """Spread capture (the edge at the fill) and the 60 s markout (what the mid did next), so the
    rewards above read against what the strategy's fills earned or paid."""
    spread = markout_frames.spread_capture(db, mode, name)
    measured, unmeasured = int(spread["measured"].sum()), int(spread["unmeasured"].sum())
    captured = float(spread["usdc"].sum()) if measured else None  # NaN markets (none measured) add nothing
    per_strategy, _ = markout_frames.markout_tables(db, mode)
    mine = per_strategy[per_strategy["strategy"] == name]
    markout_60s = None if mine.empty or math.isnan(mine.iloc[0]["usdc_60s"]) else float(mine.iloc[0]["usdc_60s"])
    cols = st.columns(3)
    cols[0].metric("Spread capture (pUSD)", usdc(captured, signed=True),
                   help="Each fill's edge against the recorded mid at its match time: a buy (mid − price) × size, "
                        "a sell the other way. Above 0 the strategy earns the spread; below 0 it pays it")
    cols[1].metric("Fills measured", f"{measured} of {measured + unmeasured}",
                   help="A fill with no recorded mid at or before its time is not measured (not counted as 0)")
    cols[2].metric("60 s markout (pUSD)", usdc(markout_60s, signed=True),
                   help="What the mid did in the 60 s after the fills (the Markouts section above)")
    if len(spread) > 1:
        _spread_table(spread, name)


def _spread_table(spread: pd.DataFrame, name: str) -> None:
    st.dataframe(spread[["market", "measured", "unmeasured", "usdc", "bps"]], hide_index=True,
                 key=f"strategy_spread_{name}",
                 column_config={"usdc": st.column_config.NumberColumn("spread capture (pUSD)", format="%.2f"),
                                "bps": st.column_config.NumberColumn("spread capture (bps)", format="%.0f")},
                 placeholder="—")


def _by_day(days, title: str) -> go.Figure:
    per_day = days.groupby("day", as_index=False)[["estimated", "paid"]].sum(min_count=1)
    figure = go.Figure([go.Bar(x=per_day["day"], y=per_day["estimated"], name="estimated"),
                        go.Bar(x=per_day["day"], y=per_day["paid"], name="paid")])
    figure.update_layout(title=text.plotly(title), barmode="group", yaxis_title="pUSD", xaxis_title="UTC day")
    return figure
