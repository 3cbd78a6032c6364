"""The wallet finder's results on the Strategies page ("Wallets worth following"): the venue's
leaderboard wallets as `python -m engine wallets top|score` scored them over a window (realized
PnL and hit rate of what they closed, trades, markets, the biggest market's share), to choose whom
to add to the followed wallets above. The page reads what the command stored; it calls nobody."""

from __future__ import annotations

from typing import Any

import streamlit as st

from pages.widgets.common import time_column
from storage.dashboard_queries import follow_queries
from storage.sqlite.db import Database

SHOWN: dict[str, Any] = {
    "rank": "rank", "name": "name", "wallet": st.column_config.TextColumn("wallet address", width="medium"),
    "board": "leaderboard", "board_pnl": st.column_config.NumberColumn("board PnL (pUSD)", format="%+.2f"),
    "window_days": "window (days)",
    "realized_pnl": st.column_config.NumberColumn("realized PnL (pUSD)", format="%+.2f",
                                                  help="What the positions it closed in the window made"),
    "hit_rate": st.column_config.NumberColumn("hit rate", format="%.0f%%", help="Closed at a profit"),
    "closed": "closed", "trades": "trades", "markets": "markets",
    "volume": st.column_config.NumberColumn("volume (pUSD)", format="%.2f"),
    "biggest": st.column_config.TextColumn("biggest market", help="Its share of the window's volume"),
    "complete": st.column_config.CheckboxColumn("complete", help="Off: more than the Data API lists"),
    "scored_at": time_column("scored"),
}


def wallet_finder(db: Database) -> None:
    st.subheader("Wallets worth following")
    scores = follow_queries.wallet_scores(db)
    st.caption("The venue's leaderboard, each wallet scored over a window from the Data API: run "
               "`python -m engine wallets top --period MONTH --days 30` (or `wallets score <address>`) to fill or "
               "refresh it. A board's PnL counts open positions at today's prices; realized PnL and hit rate count "
               "only what was closed. Copy an address into the followed wallets above to follow it.")
    if scores.empty:
        st.info("No wallet scored yet.", icon=":material/person_search:")
        return
    st.dataframe(scores[list(SHOWN)], hide_index=True, column_config=SHOWN, key="wallet_scores", placeholder="—")
