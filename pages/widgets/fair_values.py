"""Operator fair values for value betting: the `signals` rows with source 'operator'.

The operator's value wins over external sources in the engine (engine/trading/hosting/views.py); clearing it
lets an external source, if any, apply again.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from charts import text
from contracts.domain import BadNumber, NotFinite, OutOfRange, read_decimal, to_micros
from pages.widgets.common import actor, flash, prob_column, read_only, time_column
from pages.widgets.controls import saved_then_reload
from storage.dashboard_queries import market_queries, trading_queries
from storage.desk import config
from storage.sqlite.db import Database

RELOADING_FAIR_VALUES = "Waiting for the engine to reload the fair values…"

FV_MARKET, FV_VALUE, FV_SAVE = "fv_market", "fv_value", "fv_save"
FV_CLEAR_MARKET, FV_CLEAR = "fv_clear_market", "fv_clear"
COLUMNS: dict[str, Any] = {
    "question": "market",
    "condition_id": "condition id",
    "source": "source",
    "fair_value": prob_column("fair value"),
    "version": "version",
    "updated_at": time_column("updated"),
    "updated_by": "by",
}


def parse_probability(raw: str) -> tuple[int | None, str]:
    """'0.62' -> 620000 micros, or an error sentence (0..1, at most 6 decimals)."""
    try:  # "1e-999999" too: refused, never rounded to 0
        value = read_decimal(raw.strip())
    except (NotFinite, OutOfRange) as exc:
        return None, ("must have at most 6 decimal places" if isinstance(exc, OutOfRange) and not exc.large else
                      "must be a probability between 0 and 1")
    except BadNumber:
        return None, "must be a number between 0 and 1, e.g. 0.62"
    if not 0 <= value <= 1:
        return None, "must be a probability between 0 and 1"
    try:
        return to_micros(value, exact=True), ""
    except BadNumber:
        return None, "must have at most 6 decimal places"


def fair_values_panel(db: Database) -> None:
    st.subheader("Fair values for value betting")
    st.caption("The operator's fair probability per market (source `operator`) overrides external signals.")
    frame = trading_queries.fair_values(db)
    if frame.empty:
        st.caption("No fair values yet.")
    else:
        st.dataframe(frame[list(COLUMNS)], hide_index=True, column_config=COLUMNS, key="fair_values_table",
                     placeholder="—")
    choices = market_queries.market_choices(db)
    labels = dict(zip(choices["condition_id"], choices["label"], strict=True))
    if not labels:
        st.caption("No markets discovered yet: the engine's market refresh fills them.")
        return
    if read_only("setting a fair value"):
        return
    with st.form("fair_value_form"):
        market = st.selectbox("Market", list(labels), format_func=lambda c: labels.get(c, c), key=FV_MARKET)
        raw = st.text_input("Fair value (probability of YES, 0–1)", key=FV_VALUE, placeholder="0.62")
        slot = st.empty()
        submitted = st.form_submit_button("Set fair value", key=FV_SAVE, type="primary")
    if submitted:
        micros, error = parse_probability(raw)
        if micros is None:
            slot.error(f"Fair value {error}. Nothing saved.")
        else:
            saved = config.set_fair_value(db, condition_id=market, fair_value=micros, actor=actor())
            saved_then_reload(db, saved.reload_command_id,
                              flash=f"Fair value {micros / 1e6:.6g} set for {text.markdown(labels[market])}.",
                              label="The engine's reload of the fair values", waiting=RELOADING_FAIR_VALUES,
                              near=FV_SAVE)
    flash(near=FV_SAVE)
    _clear_form(db, frame, labels)


def _clear_form(db: Database, frame: pd.DataFrame, labels: dict[str, str]) -> None:
    operator = frame[frame["source"] == config.OPERATOR_SOURCE] if not frame.empty else frame
    if operator.empty:
        flash(near=FV_CLEAR)  # the clear that removed the last one says so here
        return
    ids = list(operator["condition_id"])
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    target = left.selectbox(
        "Clear the operator's value for", ids, format_func=lambda c: labels.get(c, c), key=FV_CLEAR_MARKET
    )
    if right.button("Clear", key=FV_CLEAR, icon=":material/backspace:"):
        reload_id = config.clear_fair_value(db, condition_id=target, actor=actor())
        market = labels.get(target, target)
        if reload_id is None:  # cleared elsewhere since this page was drawn
            st.session_state[f"{FV_CLEAR}flash"] = ("There was no operator fair value left to clear for "
                                                    f"{text.markdown(market)}.")
            st.rerun()
        saved_then_reload(db, reload_id, flash=f"Operator fair value cleared for {text.markdown(market)}.",
                          label="The engine's reload of the fair values", waiting=RELOADING_FAIR_VALUES,
                          near=FV_CLEAR)
    flash(near=FV_CLEAR)  # what the last clear did, under its button
