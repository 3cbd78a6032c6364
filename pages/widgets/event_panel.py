"""The Markets page's event view: one neg-risk market's siblings as its Gamma event lists them,
each named, a placeholder or the "Other" market, their YES bids and asks and the sums, and
whether the desk may buy them as a set (contracts/neg_risk_sets.py: only an event's whole
outcome set, never an augmented one). What a set-buying strategy sees, drawn."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from charts import text
from charts.tables import Col
from contracts.neg_risk_sets import why_incomplete
from pages.widgets.tables import show_table
from storage.dashboard_queries import event_queries
from storage.sqlite.db import Database

EVENT_COLUMNS = {
    "question": Col("outcome", "name"),
    "role": Col("role"),
    "yes_bid": Col("YES bid", "prob"),
    "yes_ask": Col("YES ask", "prob"),
    "tradable": Col("tradable here", "flag"),
}


def event_panel(db: Database, market: dict[str, Any]) -> None:
    if not market["neg_risk"]:
        return
    st.markdown("**Its neg-risk event**")
    event = event_queries.market_event(db, market["condition_id"])
    if event is None:
        st.caption("Its event was not read from Gamma /events yet: its whole outcome set is not known, so no "
                   "strategy buys it as a set.")
        return
    members = event["members"]
    judged = {**event, "members": [(m["condition_id"], m["role"], m["question"]) for m in members]}
    verdict = why_incomplete(judged, {m["condition_id"] for m in members if m["tradable"]})
    counts = {role: sum(1 for m in members if m["role"] == role) for role in ("named", "placeholder", "other")}
    st.caption(f"{text.markdown(event['title'])}: {len(members)} markets ({counts['named']} named, "
               f"{counts['placeholder']} placeholder, {counts['other']} Other) · {_sums(members)}")
    if verdict:
        st.warning(f"Not bought as a set: {text.markdown(verdict)}.")
    else:
        st.success("Its whole outcome set: a set of YES bought under 1 in all pays exactly 1.")
    show_table(pd.DataFrame(members, columns=list(EVENT_COLUMNS)), EVENT_COLUMNS)


def _sums(members: list[dict[str, Any]]) -> str:
    asks = [m["yes_ask"] for m in members if m["role"] != "placeholder"]
    bids = [m["yes_bid"] for m in members if m["role"] != "placeholder"]
    ask = f"YES asks sum to {sum(asks):.3f}" if asks and None not in asks else "YES asks: not all recorded"
    bid = f"bids to {sum(bids):.3f}" if bids and None not in bids else "bids: not all recorded"
    return f"{ask}, {bid}"
