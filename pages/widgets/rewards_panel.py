"""Strategies page, one strategy's liquidity rewards and maker rebates, beside its fees: how its
resting orders score for the venue's reward programs, the rewards estimated and paid per day
and market (storage/reward_queries.py, written by engine/trading/rewards.py)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from pages.widgets import figures
from pages.widgets.common import usdc
from storage import reward_queries, strategy_queries
from storage.db import Database


def rewards_panel(db: Database, mode: str, name: str) -> None:
    days = reward_queries.strategy_rewards(db, mode, name)
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
    if days.empty:
        st.caption("No reward-market orders yet: rewards are paid on resting orders inside a program's max "
                   "spread and at least its min size (the market maker's reward_qualify does that).")
        return
    st.plotly_chart(_by_day(days, f"{name}: liquidity rewards by day ({mode})"), key=f"strategy_rewards_{name}",
                    width="stretch", config=figures.CHART_CONFIG)
    st.dataframe(days.drop(columns=["condition_id"]), hide_index=True, key=f"strategy_reward_days_{name}",
                 column_config={"estimated": st.column_config.NumberColumn("estimated (pUSD)", format="%.6f"),
                                "paid": st.column_config.NumberColumn("paid (pUSD)", format="%.6f")})


def _by_day(days, title: str) -> go.Figure:  # type: ignore[no-untyped-def]
    per_day = days.groupby("day", as_index=False)[["estimated", "paid"]].sum(min_count=1)
    figure = go.Figure([go.Bar(x=per_day["day"], y=per_day["estimated"], name="estimated"),
                        go.Bar(x=per_day["day"], y=per_day["paid"], name="paid")])
    figure.update_layout(title=title, barmode="group", yaxis_title="pUSD", xaxis_title="UTC day")
    return figure
