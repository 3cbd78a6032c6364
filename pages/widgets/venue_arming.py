"""Settings page: each venue armed on its own (every venue but the desk's own) armed live, or back to paper,
on its own, beside the desk's paper/live switch. Live sends the promoted strategies' orders on that venue
to it with real money, so it has its own gate (storage/desk/arming.py: the key the engine read, a
passing preflight of the last hour, a promoted strategy naming its markets, the engine stopped, none of
its orders open) and a typed confirmation; the engine checks again before it applies
(engine/process/control.py, `set_venue_mode`) and audits it. Back to paper is always allowed."""

from __future__ import annotations

import streamlit as st

from contracts.venue_policies import policy_of
from pages.widgets import arming_panel
from pages.widgets.arming_panel import Arming
from pages.widgets.common import remember_answer
from pages.widgets.controls import post_and_wait
from storage.dashboard_queries import status_queries as queries
from storage.desk import desk_state
from storage.sqlite.db import Database


def switch_key(venue: str) -> str:
    """Where a venue's switch answers (pages/settings.py draws it by the panel)."""
    return f"{venue}_mode"


def arming_of(venue: str) -> Arming:
    """A venue's arming controls: `LIVE <VENUE>` typed, its widget keys named after it."""
    label = policy_of(venue).label
    return Arming(venue, f"LIVE {venue.upper()}", "set_venue_mode", {"venue": venue, "mode": "live"},
                  f"Arm {label} LIVE", f"{label} not armed live", venue, f"{venue}_go_live",
                  f"{switch_key(venue)}answer")


def venue_mode_panel(db: Database, venue: str, where: str = "") -> None:
    """`where`: the venue's environment as the settings name it, said beside "live" (empty: none)."""
    label = policy_of(venue).label
    status = queries.engine_status(db)
    at = f" ({where})" if where else ""
    if status.mode_of(venue) == "live":
        armed = desk_state.armed_sentence("live", status.host_of(venue), desk_state.desk_state(status), label)
        st.warning(f"{armed} Promoted strategies that name {label} markets trade there{at}.",
                   icon=":material/bolt:")
        if st.button(f"{label} back to PAPER", key=f"{venue}_go_paper", icon=":material/description:"):
            with st.spinner(f"{label} back to paper: the engine stops live trading first…"):
                remember_answer(post_and_wait(db, "set_venue_mode", {"venue": venue, "mode": "paper"},
                                              slot=f"set_venue_mode:{venue}:paper", label=f"{label} back to paper"),
                                key=f"{switch_key(venue)}answer")
            st.rerun()
        return
    st.markdown(f"{label} trades on **paper** (its own ledger, fees and rules). Arming it live{at} sends the orders "
                f"of **promoted** strategies that name {label} markets to {label}; the others wait."
                + (f" One strategy per {label} market while live: {label} nets an account's positions."
                   if policy_of(venue).one_strategy_per_market_live else ""))
    gate = queries.arming_gate(db, venue)
    arming = arming_of(venue)
    arming_panel.checklist(gate)
    arming_panel.preflight_button(db, arming)
    arming_panel.arm_controls(db, gate, arming)
