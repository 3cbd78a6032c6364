"""A market maker's regimes on the Strategies page: where each of its markets stands now (calm,
fast, stale, toxic, pulled, reduce-only) and why, and its latest changes, as the decisions log
noted them."""

from __future__ import annotations

import streamlit as st

from charts.tables import Col
from pages.widgets.tables import rows_height, show_table
from storage.dashboard_queries.strategy_queries import regime_changes
from storage.sqlite.db import Database

NOW_COLUMNS = {
    "question": Col("market", "name"),
    "regime": Col("regime"),
    "at": Col("since", "time"),
    "why": Col("why", "long"),
}
CHANGE_COLUMNS = {"at": Col("at", "time"), **{k: v for k, v in NOW_COLUMNS.items() if k != "at"}}


def regime_panel(db: Database, mode: str, strategy: str) -> None:
    """Nothing for a strategy that names no regime (market making with none of its controls on)."""
    changes = regime_changes(db, mode, strategy)
    if changes.empty:
        return
    st.markdown("**Regimes**")
    now = changes.drop_duplicates("condition_id")  # newest first: each market's current regime
    counts = now["regime"].value_counts()
    st.caption("Now: " + ", ".join(f"{n} {regime}" for regime, n in counts.items()) + ". Toxic: its own fills were "
               "picked off, so it quotes wider and smaller; pulled: a sweep or jump, quotes withdrawn for a "
               "cool-down; reduce_only: near the end date. Set in the strategy's settings.")
    show_table(now, NOW_COLUMNS, height=rows_height(len(now)))
    with st.expander(f"Latest changes ({len(changes):,})"):
        show_table(changes, CHANGE_COLUMNS, height=rows_height(len(changes)))
