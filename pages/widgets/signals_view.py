"""The Signals view (Markets page): the fair values strategies see right now, where each came from
(the operator, an outside tool, a news headline) and when it expires; each news feed's last poll;
and the latest headlines read. Read-only: feeds and rules are edited on the Settings page."""

from __future__ import annotations

from typing import Any

import streamlit as st

from charts import text
from pages.widgets.common import prob_column, time_column
from storage.dashboard_queries import news_queries
from storage.sqlite.db import Database, now_ms

SIGNAL_COLUMNS: dict[str, Any] = {
    "question": "market",
    "source": "signal",
    "fair_value": prob_column("value"),
    "in_force": st.column_config.CheckboxColumn("in force"),
    "expires_at": time_column("expires"),
    "detail": "why",
    "updated_at": time_column("updated"),
}
FEED_COLUMNS: dict[str, Any] = {
    "name": "feed",
    "polled_at": time_column("last poll"),
    "ok_at": time_column("last answer"),
    "entries": "entries",
    "matched": "signals written",
    "error": "problem",
}
HEADLINE_COLUMNS: dict[str, Any] = {
    "seen_at": time_column("read"),
    "feed": "feed",
    "title": "headline",
    "sentiment": st.column_config.NumberColumn("sentiment", format="%+.2f",
                                               help="-1 most negative .. 1 most positive (VADER's lexicon)"),
    "signals": "signals",
    "published_at": time_column("published"),
}


def signals_view(db: Database) -> None:
    st.subheader("Signals")
    st.caption("Fair values value betting trades toward: the operator's (Strategies page) win over the others; "
               "a news signal holds until it expires. News feeds and their rules: Settings page → News feeds.")
    signals = news_queries.signals(db, now_ms())
    if signals.empty:
        st.caption("No signals yet.")
    else:
        active = int(signals["in_force"].sum())
        st.caption(f"{active} in force, {len(signals) - active} expired (expired news signals go after a day).")
        st.dataframe(signals[list(SIGNAL_COLUMNS)], hide_index=True, column_config=SIGNAL_COLUMNS,
                     key="signals_table", placeholder="—")
    feeds = news_queries.news_feeds(db)
    if feeds.empty:
        return
    failing = feeds[feeds["error"].notna()]
    for _, feed in failing.iterrows():
        st.warning(f"News feed **{text.markdown(feed['name'])}**: {text.markdown(feed['error'])}",
                   icon=":material/rss_feed:")
    st.dataframe(feeds[list(FEED_COLUMNS)], hide_index=True, column_config=FEED_COLUMNS, key="news_feeds_table",
                 placeholder="—")
    headlines = news_queries.headlines(db)
    if not headlines.empty:
        with st.expander(f"Latest headlines ({len(headlines)})"):
            st.dataframe(headlines[list(HEADLINE_COLUMNS)], hide_index=True, column_config=HEADLINE_COLUMNS,
                         key="headlines_table", placeholder="—")
