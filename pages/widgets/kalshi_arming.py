"""Settings page: Kalshi armed live (or back to paper) on its own, beside the desk's paper/live
switch. Live sends the promoted strategies' Kalshi orders to Kalshi with real money, so it asks for
its own checklist and a typed confirmation; the engine checks again before it applies
(engine/process/control.py, `set_venue_mode`) and audits it. Back to paper is always allowed."""

from __future__ import annotations

import streamlit as st

from contracts.settings import Settings
from pages.widgets.common import remember_answer
from pages.widgets.controls import post_and_wait
from pages.widgets.settings_panels import STOPPED_STATES, arming_refusals, check_line
from storage.dashboard_queries import portfolio_queries
from storage.dashboard_queries import status_queries as queries
from storage.desk import desk_state
from storage.sqlite.db import Database

KALSHI_WORD = "LIVE KALSHI"
KALSHI_CONFIRM, KALSHI_GO_LIVE, KALSHI_GO_PAPER = "kalshi_confirm", "kalshi_go_live", "kalshi_go_paper"
KALSHI_SWITCH = "kalshi_mode"  # where Kalshi's switch answers (pages/settings.py draws it by the panel)


def kalshi_live_refusals(*, key: bool, state: str, open_orders: int, typed: str) -> list[str]:
    """Every reason arming Kalshi live is refused now (empty: it may go)."""
    return arming_refusals(
        missing=None if key else ("Kalshi needs its API key: KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY in .env (or "
                                  "sealed), then `python -m engine kalshi-preflight`."),
        state=state, working=f"Cancel the open Kalshi orders first ({open_orders} still working)." if open_orders
        else None, typed=typed, word=KALSHI_WORD)


def kalshi_mode_panel(db: Database, current: Settings) -> None:
    status = queries.engine_status(db)
    key = current.kalshi is not None and current.kalshi.configured
    environment = current.kalshi.environment if current.kalshi is not None else "prod"
    if status.kalshi_mode == "live":
        armed = desk_state.armed_sentence("live", status.kalshi_host, desk_state.desk_state(status), "Kalshi")
        st.warning(f"{armed} Promoted strategies that name Kalshi markets trade there ({environment}).",
                   icon=":material/bolt:")
        if st.button("Kalshi back to PAPER", key=KALSHI_GO_PAPER, icon=":material/description:"):
            with st.spinner("Kalshi back to paper: the engine stops live trading first…"):
                remember_answer(post_and_wait(db, "set_venue_mode", {"venue": "kalshi", "mode": "paper"},
                                              slot="set_venue_mode:kalshi:paper", label="Kalshi back to paper"),
                                key=f"{KALSHI_SWITCH}answer")
            st.rerun()
        return
    st.markdown(f"Kalshi trades on **paper** (its own ledger, fees and rules). Arming it live ({environment}) sends "
                "the orders of **promoted** strategies that name Kalshi markets to Kalshi; the others wait. One "
                "strategy per Kalshi market while live: Kalshi nets an account's positions.")
    orders = portfolio_queries.open_order_count(db, venue="kalshi")
    check_line(key, "Kalshi's API key present (KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY)")
    check_line(status.state in STOPPED_STATES, f"the engine stopped (it is {status.state})")
    check_line(not orders, f"no open Kalshi orders ({orders})")
    typed = st.text_input(f"Type {KALSHI_WORD} to confirm", key=KALSHI_CONFIRM)
    if st.button("Arm Kalshi LIVE", key=KALSHI_GO_LIVE, icon=":material/bolt:"):
        refusals = kalshi_live_refusals(key=key, state=status.state, open_orders=orders, typed=typed)
        if refusals:
            st.error("Kalshi not armed live:\n\n" + "\n".join(f"- {r}" for r in refusals), icon=":material/block:")
            return
        with st.spinner("Arming Kalshi LIVE: the engine checks again before it applies…"):
            remember_answer(post_and_wait(db, "set_venue_mode", {"venue": "kalshi", "mode": "live"},
                                          slot="set_venue_mode:kalshi:live", label="Arm Kalshi LIVE"),
                            key=f"{KALSHI_SWITCH}answer")
        st.rerun()
