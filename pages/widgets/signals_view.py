"""The Signals view (Markets page): the fair values strategies see right now, where each came from
(the operator, an outside tool, a news headline) and when it expires; each news feed's last poll;
and the latest headlines read. Read-only: feeds and rules are edited on the Settings page."""

from __future__ import annotations

from typing import Any

import streamlit as st

from charts import text
from charts.tables import Col
from pages.widgets.common import prob_column, time_column
from pages.widgets.pair_panels import find_and_link, link_answer, unlink_panel
from pages.widgets.pair_suggestions import suggestions_panel
from pages.widgets.tables import show_table
from storage.dashboard_queries import news_queries
from storage.sqlite.db import Database, now_ms

SIGNAL_COLUMNS: dict[str, Any] = {
    "question": "market",
    "source": "signal",
    "fair_value": prob_column("value"),
    "confidence": prob_column("confidence"),
    "via": st.column_config.TextColumn("via", help="how it came: http (the signals API), cli, mcp (an assistant); "
                                                   "empty: the operator's page or the news poller"),
    "updated_by": "by",
    "in_force": st.column_config.CheckboxColumn("in force", help="unexpired, and its source not benched by the "
                                                                 "model-confidence breaker"),
    "source_state": "source state",
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


# An HTML table (pages/widgets/tables.py): the differences noted wrap instead of pushing the last
# columns out of the page's width.
PAIR_COLUMNS: dict[str, Col] = {
    "id": Col("pair", "int"),
    "question": Col("Polymarket market", "name"),
    "kalshi_ticker": Col("Kalshi market"),
    "kalshi_side": Col("its YES is Kalshi's"),  # NO: linked inverted (the question asked the other way round)
    "warnings": Col("differences noted when linked", "long"),
    "created_at": Col("linked", "time"),
    "created_by": Col("by"),
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
    pairs_view(db)
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


def pairs_view(db: Database) -> None:
    """The markets linked by hand to Kalshi: each takes its Kalshi market's mid as its reference price."""
    pairs = news_queries.venue_pairs(db)
    with st.expander("Suggested pairs: the same question on the other venue", icon=":material/join_inner:",
                     expanded=True):
        suggestions_panel(db)
    with st.expander("Find and link a Kalshi pair", icon=":material/link:", expanded=pairs.empty):
        find_and_link(db)
    link_answer()
    if pairs.empty:
        st.caption("No market is paired with Kalshi: find one above (or python -m engine pairs find / add).")
        unlink_panel(db, pairs)  # what the Unlink that removed the last pair said
        return
    st.caption(f"{len(pairs)} market(s) paired with Kalshi by hand: each takes its Kalshi market's mid as its "
               "reference price (market making with fair value 'reference', value betting with fair source "
               "'reference'); open one above to see both books and the pair's spreads after fees.")
    show_table(pairs, PAIR_COLUMNS)
    unlink_panel(db, pairs)
