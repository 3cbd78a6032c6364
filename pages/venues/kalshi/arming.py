"""Settings page: Kalshi armed live (or back to paper) on its own, beside the desk's paper/live
switch. Live sends the promoted strategies' Kalshi orders to Kalshi with real money, so it has its
own gate (storage/desk/arming.py: the Kalshi key the engine read, a passing kalshi-preflight of the
last hour, a promoted strategy naming Kalshi markets, the engine stopped, no open Kalshi order) and a
typed confirmation; the engine checks again before it applies (engine/process/control.py,
`set_venue_mode`) and audits it. Back to paper is always allowed."""

from __future__ import annotations

import streamlit as st

from contracts.settings import Settings
from contracts.venues import KALSHI
from pages.widgets import arming_panel
from pages.widgets.arming_panel import Arming
from pages.widgets.common import remember_answer
from pages.widgets.controls import post_and_wait
from storage.dashboard_queries import status_queries as queries
from storage.desk import desk_state
from storage.sqlite.db import Database

KALSHI_WORD = "LIVE KALSHI"
KALSHI_CONFIRM, KALSHI_GO_LIVE, KALSHI_GO_PAPER = "kalshi_confirm", "kalshi_go_live", "kalshi_go_paper"
KALSHI_SWITCH = "kalshi_mode"  # where Kalshi's switch answers (pages/settings.py draws it by the panel)
KALSHI_ARMING = Arming(KALSHI, KALSHI_WORD, "set_venue_mode", {"venue": "kalshi", "mode": "live"}, "Arm Kalshi LIVE",
                       "Kalshi not armed live", "kalshi", KALSHI_GO_LIVE, f"{KALSHI_SWITCH}answer")


def kalshi_mode_panel(db: Database, current: Settings) -> None:
    status = queries.engine_status(db)
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
    gate = queries.arming_gate(db, KALSHI)
    arming_panel.checklist(gate)
    arming_panel.preflight_button(db, KALSHI_ARMING)
    arming_panel.arm_controls(db, gate, KALSHI_ARMING)
