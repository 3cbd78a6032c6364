"""Overview: is the engine alive, what is it doing, how is the book, and the controls to steer it."""

from __future__ import annotations

import streamlit as st

from charts import text
from contracts.roles import COMMAND_SCOPES
from contracts.venue_policies import policy_of, venues_armed_alone
from pages.venues.kalshi.funds import funds_panel, shortfall_notice
from pages.venues.kalshi.pause import kalshi_pause_notice
from pages.widgets import portfolio
from pages.widgets.auth import require_login
from pages.widgets.common import database, flash, health_header, live_fragment, may_not, read_only, remember_answer
from pages.widgets.controls import COMMAND_COLUMNS, CONTROLS, engine_phase, not_now, post_and_wait
from pages.widgets.dialogs import open_dialog, show_dialog
from pages.widgets.redeem_panel import redeemable_panel
from pages.widgets.tables import show_table
from storage.dashboard_queries import status_queries as queries
from storage.dashboard_queries import trading_queries
from storage.desk import desk_state, desk_status
from storage.sqlite.db import Database

LIVE_REFRESH_S = 2
PORTFOLIO_REFRESH_S = 15
COMMANDS_SHOWN = 6


require_login(__file__)  # before anything is read: see pages/widgets/auth.py
db = database()
st.title("Overview")


# The controls refresh with the engine's state (each enabled only where it applies, the reason on
# hover), and every answer shows right under them until read. The dialogs are drawn outside the
# refresh, so a refresh never re-opens one.
@live_fragment(run_every=LIVE_REFRESH_S)
def controls(db: Database) -> None:
    if read_only("the engine's controls"):
        return
    status = queries.engine_status(db)
    # One row that wraps (six columns stack into six full-width buttons on a phone, a screen of them).
    cols = [st.container(horizontal=True)] * 6
    buttons = [
        ("start", "Start", ":material/play_arrow:"),
        ("pause", "Pause", ":material/pause:"),
        ("resume", "Resume", ":material/resume:"),
        ("stop", "Stop", ":material/stop:"),
    ]
    for col, (kind, label, icon) in zip(cols, buttons, strict=False):
        why_not = not_now(kind, status) or may_not(COMMAND_SCOPES[kind])
        if col.button(label, key=f"btn_{kind}", icon=icon, width="stretch", disabled=why_not is not None,
                      help=why_not):
            with st.spinner(f"{label}: waiting for the engine…"):
                answer = post_and_wait(db, kind, label=label)
            status = queries.engine_status(db)  # as the engine left it: what the answer holds for
            remember_answer(answer, key=f"{CONTROLS}answer", holds=engine_phase(status))
    if cols[4].button("Kill", key="btn_kill", type="primary", icon=":material/dangerous:", width="stretch"):
        open_dialog("kill", near=CONTROLS)
        st.rerun(scope="app")
    why_not = not_now("rearm", status) or may_not(COMMAND_SCOPES["rearm"])
    if cols[5].button("Re-arm", key="btn_rearm", icon=":material/lock_open:", width="stretch",
                      disabled=why_not is not None, help=why_not):
        open_dialog("rearm", near=CONTROLS)
        st.rerun(scope="app")
    flash(near=CONTROLS, holds=engine_phase(status))  # gone once the engine has moved on


def state_notes(status: desk_status.EngineStatus) -> None:
    """What the header's one state (mode, lifecycle, the desk's state, the heartbeat) does not say:
    where a restart takes the engine, why the desk holds back, why nothing is placed, the last error."""
    desk = desk_state.desk_state(status)  # the one state every surface shows, in the header
    if status.desired_state != status.state:
        st.caption(f"After a restart the engine returns to {status.desired_state} (it is {status.state} now).")
    if desk.level in ("warning", "critical") and desk.code not in ("KILLED", "DOWN"):  # the header says those
        st.warning(f"{desk.label}: {text.markdown(desk.reason or 'no reason recorded')}", icon=":material/warning:")
    if desk.trading and (idle := queries.idle_reasons(db, status.mode)):  # running, yet no order works: why
        st.info("Running, but no order is working: " + "; ".join(text.markdown(why) for why in idle),
                icon=":material/hourglass_empty:")
    if status.last_error:
        st.warning(f"Last error: {text.markdown(status.last_error)}", icon=":material/error:")
    kalshi_pause_notice(db, status_area=True)  # paused, just resumed, or a scheduled pause within a day
    shortfall_notice(db)  # a section of a venue's account (a shard) too short to fund the desk's quotes there


@live_fragment(run_every=LIVE_REFRESH_S)
def command_table() -> None:
    """The operator's latest commands, under the figures they steer: the configuration reloads the
    pages post after each save are left out (the Audit page lists every command)."""
    st.subheader("Latest commands")
    frame = queries.recent_commands(db, limit=COMMANDS_SHOWN, leave_out=("reload_config",))
    if frame.empty:
        st.caption("No commands yet.")
        return
    show_table(frame, COMMAND_COLUMNS)
    st.caption("Configuration reloads after a save are left out here; the Audit page lists every command.")


@live_fragment(run_every=LIVE_REFRESH_S)
def live_panel() -> None:
    status = health_header(db)
    state_notes(status)
    portfolio.pnl_today_metrics(db, status.mode)


def venue_panel(venue: str, names: list[str], mode: str) -> None:
    """Strategies trading a venue armed on its own: its own ledger in its armed mode, shown apart from the desk's."""
    policy = policy_of(venue)
    label, unit = policy.label, policy.cash_unit
    if mode == "live":
        st.subheader(f"{label}: LIVE ledger ({desk_state.stake(queries.engine_status(db).host_of(venue))})")
        st.caption(f"{label} is armed live: the promoted ones of {', '.join(text.markdown(n) for n in names)} send "
                   f"their orders to {label} (its own limits and PnL; paper-only ones wait, see Strategies). "
                   f"Figures below are that ledger's, in {unit}, kept equal to {label}'s balance.")
    else:
        st.subheader(f"{label}: paper ledger")
        st.caption(f"{', '.join(text.markdown(n) for n in names)} trade {label} markets on {label}'s own paper "
                   f"ledger ({label}'s fees, its own limits and PnL; the engine sends nothing to {label}). Figures "
                   f"below are that ledger's, in {unit}.")
    state, reason = trading_queries.ledger_state(db, venue, mode)
    if state != "ACTIVE":
        st.warning(f"{label} {mode} {state}: {text.markdown(reason or 'no reason recorded')} (the desk's trading is "
                   "not affected; the operator's Start ends it)", icon=":material/warning:")
    if policy.announces_pauses:
        kalshi_pause_notice(db, status_area=False)  # paused, just resumed, or its next scheduled pause
    if mode == "live":
        funds_panel(db, venue)  # its account's sections (shards), what moves between them, offers to fund one
    portfolio.pnl_today_metrics(db, mode, venue=venue)
    portfolio.positions_table(db, mode, key=venue, venue=venue)


@live_fragment(run_every=PORTFOLIO_REFRESH_S)
def portfolio_panel() -> None:
    mode = queries.engine_status(db).mode
    left, right = st.columns(2)  # the usage labels need half the width at 1366 px
    with left:
        portfolio.equity_chart(db, mode)
    with right:
        portfolio.usage_chart(db, mode)
    st.subheader("PnL by strategy")
    portfolio.strategy_pnl_table(db, mode)
    portfolio.profit_bars(db, mode)
    st.subheader("Open positions")
    portfolio.positions_table(db, mode)
    if mode == "live":
        portfolio.paper_ledger_panel(db)  # the paper ledger's own, and the promoted strategies' paper leftovers
    status = queries.engine_status(db)
    for policy in venues_armed_alone():  # each venue armed on its own: its ledger, when a strategy trades it
        if names := trading_queries.trading_venue(db, policy.venue):
            venue_panel(policy.venue, names, status.mode_of(policy.venue))
    st.subheader("Cash and redeemable")
    redeemable_panel(db, mode)
    st.subheader("Latest alerts")
    portfolio.alerts_table(db)


controls(db)
show_dialog(db, "kill", "rearm", "redeem", "exit")
live_panel()
portfolio_panel()
command_table()
