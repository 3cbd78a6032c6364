"""Overview: is the engine alive, what is it doing, and the controls to steer it."""

from __future__ import annotations

import streamlit as st

from storage import queries
from storage.db import Database

from pages.widgets.common import age, database, health_header
from pages.widgets.controls import post

REFRESH_S = 2

db = database()
st.title("Overview")


DIALOG = "overview_dialog"


def _close_dialog() -> None:
    st.session_state.pop(DIALOG, None)


# The open dialog is remembered in session state (not only in the click that opened it),
# so a rerun triggered inside the dialog still finds it and its buttons.
@st.dialog("Kill the engine?", on_dismiss=_close_dialog)
def confirm_kill(db: Database) -> None:
    st.write(
        "Kill cancels **every** order at the venue, blocks all new orders and sets the kill latch. "
        "The latch survives restarts; only a Re-arm clears it."
    )
    reason = st.text_input("Reason (goes to the audit log)", key="kill_reason")
    left, right = st.columns(2)
    if left.button("Kill now", type="primary", key="kill_confirm", icon=":material/dangerous:"):
        row = post(db, "kill", {"reason": reason.strip() or "operator kill from dashboard"})
        st.session_state["flash"] = f"Kill posted (command #{row.id})."
        _close_dialog()
        st.rerun()
    if right.button("Cancel", key="kill_cancel"):
        _close_dialog()
        st.rerun()


@st.dialog("Re-arm after a kill?", on_dismiss=_close_dialog)
def confirm_rearm(db: Database) -> None:
    st.write("Re-arm clears the kill latch. The engine stays STOPPED until you press Start. "
             "Your name and the time go to the audit log.")
    if st.button("Re-arm", type="primary", key="rearm_confirm"):
        row = post(db, "rearm")
        st.session_state["flash"] = f"Re-arm posted (command #{row.id})."
        _close_dialog()
        st.rerun()


# Controls live outside the auto-refreshing panel so a dialog is never re-opened by a
# refresh; they are always enabled because the engine answers an inapplicable command
# with its reason (a button disabled from a stale state would be worse).
def controls(db: Database) -> None:
    cols = st.columns(6)
    buttons = [
        ("start", "Start", ":material/play_arrow:"),
        ("pause", "Pause", ":material/pause:"),
        ("resume", "Resume", ":material/resume:"),
        ("stop", "Stop", ":material/stop:"),
    ]
    for col, (kind, label, icon) in zip(cols, buttons, strict=False):
        if col.button(label, key=f"btn_{kind}", icon=icon, width="stretch"):
            row = post(db, kind)
            st.session_state["flash"] = f"{label} posted (command #{row.id})."
    if cols[4].button("Kill", key="btn_kill", type="primary", icon=":material/dangerous:", width="stretch"):
        st.session_state[DIALOG] = "kill"
    if cols[5].button("Re-arm", key="btn_rearm", icon=":material/lock_open:", width="stretch"):
        st.session_state[DIALOG] = "rearm"
    if st.session_state.get(DIALOG) == "kill":
        confirm_kill(db)
    elif st.session_state.get(DIALOG) == "rearm":
        confirm_rearm(db)


def state_metrics(status: queries.EngineStatus) -> None:
    cols = st.columns(4)
    cols[0].metric("Lifecycle", status.state)
    cols[1].metric("Desired", status.desired_state, help="What the engine returns to after a restart")
    cols[2].metric("Mode", status.mode.upper())
    cols[3].metric("Heartbeat age", age(status.heartbeat_age_s))
    if status.last_error:
        st.warning(f"Last error: {status.last_error}", icon=":material/error:")


def command_table(db: Database) -> None:
    st.subheader("Latest commands")
    frame = queries.recent_commands(db, limit=15)
    if frame.empty:
        st.caption("No commands yet.")
        return
    st.dataframe(
        frame[["id", "kind", "status", "actor", "created_at", "latency_ms", "error"]],
        hide_index=True,
        column_config={
            "created_at": st.column_config.DatetimeColumn("posted (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "latency_ms": st.column_config.NumberColumn("latency", format="%d ms"),
        },
    )


@st.fragment(run_every=REFRESH_S)
def live_panel() -> None:
    status = health_header(db)
    state_metrics(status)
    command_table(db)


controls(db)
flash = st.session_state.pop("flash", None)
if flash:
    st.success(flash, icon=":material/send:")
live_panel()
