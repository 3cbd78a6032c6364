"""Confirmation dialogs for the commands that need a second thought: kill, re-arm, cancel order,
redeem, exit a position (or flatten a strategy).

The open dialog is remembered in session state (not only in the click that opened it), so a
rerun triggered inside the dialog still finds it and its buttons. Pages call `show_dialog`
once per run, outside any auto-refreshing fragment, so a refresh never re-opens one.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import streamlit as st

from charts import text
from contracts.domain import MICRO
from contracts.exit_floors import price_words
from pages.widgets.common import Answer, remember_answer
from pages.widgets.controls import engine_phase, post_and_wait
from storage.command_queue import answers
from storage.dashboard_queries import status_queries as queries
from storage.sqlite.db import Database

DIALOG = "open_dialog"
CONTEXT = "open_dialog_context"
KILL_REASON, KILL_CONFIRM, KILL_CANCEL = "kill_reason", "kill_confirm", "kill_cancel"
REARM_CONFIRM, REARM_CANCEL = "rearm_confirm", "rearm_cancel"
CANCEL_CONFIRM, CANCEL_BACK = "cancel_order_confirm", "cancel_order_back"
REDEEM_CONFIRM, REDEEM_BACK = "redeem_confirm", "redeem_back"
EXIT_CONFIRM, EXIT_BACK = "exit_confirm", "exit_back"


def open_dialog(name: str, **context: Any) -> None:
    """Ask for a dialog; the page's `show_dialog` draws it. A caller inside a fragment must
    follow with `st.rerun(scope="app")`, or only the fragment reruns and nothing opens. `near`
    (in `context`): the control that opened it, whose `flash(near=...)` shows the answer."""
    st.session_state[DIALOG] = name
    st.session_state[CONTEXT] = context


def close_dialog() -> None:
    st.session_state.pop(DIALOG, None)
    st.session_state.pop(CONTEXT, None)


def _done(answer: Answer, holds: str | None = None) -> None:
    """Keep the answer for the control that opened the dialog (its `near`; `holds`: as
    `remember_answer`), then close."""
    near = st.session_state.get(CONTEXT, {}).get("near", "")
    remember_answer(answer, key=f"{near}answer", holds=holds)
    close_dialog()
    st.rerun()


def _engine_done(db: Database, answer: Answer) -> None:
    """A kill's or a re-arm's answer: it holds while the engine reads as the command left it."""
    _done(answer, holds=engine_phase(queries.engine_status(db)))


@st.dialog("Kill the engine?", on_dismiss=close_dialog)
def confirm_kill(db: Database) -> None:
    st.write(
        "Kill cancels **every** order at the venue, blocks all new orders and sets the kill latch. "
        "The latch survives restarts; only a Re-arm clears it."
    )
    reason = st.text_input("Reason (goes to the audit log)", key=KILL_REASON)
    left, right = st.columns(2)
    if left.button("Kill now", type="primary", key=KILL_CONFIRM, icon=":material/dangerous:"):
        with st.spinner("Killing: waiting for the engine…"):
            _engine_done(db, post_and_wait(db, "kill", {"reason": reason.strip() or "operator kill from dashboard"},
                                           label="Kill"))
    if right.button("Cancel", key=KILL_CANCEL):
        close_dialog()
        st.rerun()


@st.dialog("Re-arm after a kill?", on_dismiss=close_dialog)
def confirm_rearm(db: Database) -> None:
    st.write(
        "Re-arm clears the kill latch. The engine stays STOPPED until you press Start. "
        "Your name and the time go to the audit log."
    )
    left, right = st.columns(2)
    if left.button("Re-arm", type="primary", key=REARM_CONFIRM, icon=":material/lock_open:"):
        with st.spinner("Re-arming: waiting for the engine…"):
            _engine_done(db, post_and_wait(db, "rearm", label="Re-arm"))
    if right.button("Cancel", key=REARM_CANCEL):
        close_dialog()
        st.rerun()


@st.dialog("Cancel this order?", on_dismiss=close_dialog)
def confirm_cancel(db: Database) -> None:
    order = st.session_state.get(CONTEXT, {})
    st.write(f"Order **#{order.get('id')}**: {text.markdown(order.get('summary', ''))}")
    st.caption("The engine cancels it at the venue; its reserved size is released when the venue confirms.")
    left, right = st.columns(2)
    if left.button("Cancel the order", type="primary", key=CANCEL_CONFIRM, icon=":material/cancel:"):
        order_id = int(order["id"])
        with st.spinner("Cancelling: waiting for the engine…"):
            _done(post_and_wait(db, "cancel_order", {"order_id": order_id}, slot=f"cancel_order:{order_id}",
                                label=f"Cancel of order #{order_id}"))
    if right.button("Keep it", key=CANCEL_BACK):
        close_dialog()
        st.rerun()


@st.dialog("Redeem resolved positions now?", on_dismiss=close_dialog)
def confirm_redeem(db: Database) -> None:
    owed = st.session_state.get(CONTEXT, {})
    st.write(f"The engine asks the venue to pay **{owed.get('owed', 0):,.2f} pUSD** owed in "
             f"**{owed.get('markets', 0)}** resolved market(s): a redeem per market, through the relayer (or the "
             "wallet's own transaction), without waiting for the venue's auto-redeem operator.")
    st.caption("Cash is booked when the venue reports the payment, for exactly what it paid. The command and "
               "your name go to the audit log.")
    left, right = st.columns(2)
    if left.button("Redeem", type="primary", key=REDEEM_CONFIRM, icon=":material/savings:"):
        with st.spinner("Redeeming: waiting for the engine…"):
            _done(post_and_wait(db, "redeem", {"reason": "Redeem button on the Overview"}, label="Redeem"))
    if right.button("Not now", key=REDEEM_BACK):
        close_dialog()
        st.rerun()


@st.dialog("Sell now?", on_dismiss=close_dialog)
def confirm_exit(db: Database) -> None:
    asked = st.session_state.get(CONTEXT, {})
    st.markdown(f"**{text.markdown(asked.get('title', 'Exit'))}** ({asked.get('mode', '')})")
    for line in asked.get("lines", []):
        mark = "no price now, so not sold: exit it again once its market has one" if line.mark is None or \
            line.floor is None else (
            f"mark {price_words(line.mark)}; sold at no less than **{price_words(line.floor)}** (mark less the "
            f"max-slippage limit), so at worst {line.worst / MICRO:,.2f} pUSD before the taker fee")
        st.markdown(f"- {text.markdown(line.question)} · **{line.outcome}** · {line.shares / MICRO:,.2f} shares: "
                    f"{mark}")
    st.caption("The engine withdraws the strategy's orders in that market first (and any other strategy's order "
               "the sale would trade with), keeps it out of the market while the exit lasts, then sells with a "
               "fill-and-kill, never below the floor shown; what does not sell is tried again until nothing is "
               "held, and if the market falls below the floor the exit stops there and says so. The desk keeps "
               "trading its other markets. The command, its answer and your name go to the audit log.")
    left, right = st.columns(2)
    if left.button("Sell now", type="primary", key=EXIT_CONFIRM, icon=":material/logout:"):
        with st.spinner("Selling: waiting for the engine…"):
            answer = post_and_wait(db, "exit", asked.get("payload", {}), label=asked.get("title", "Exit"))
        _done(with_sales(answer))
    if right.button("Keep it", key=EXIT_BACK):
        close_dialog()
        st.rerun()


def with_sales(answer: Answer) -> Answer:
    """The engine's answer to an exit, saying per position what sold and why anything did not: "partly
    done" (amber) when anything remains, with what and why, never a green "done" over a sale that fell short."""
    try:
        result = json.loads(answer.result or "")
    except ValueError:
        result = None
    if answer.state != "done" or not isinstance(result, dict):
        return answer
    sold = "".join(f" {text.markdown(line)}." for line in answers.sales(answer.result))  # price, proceeds, PnL
    remains = answers.unsold(answer.result)
    if remains:
        head = answer.message.replace(": done (", ": partly done (", 1)
        return replace(answer, state="partial", message=f"{head}{sold} Remains: " + "; ".join(
            text.markdown(r) for r in remains))
    return replace(answer, message=f"{answer.message}{sold}")


_DIALOGS = {"kill": confirm_kill, "rearm": confirm_rearm, "cancel_order": confirm_cancel, "redeem": confirm_redeem,
            "exit": confirm_exit}


def show_dialog(db: Database, *names: str) -> None:
    """Render the dialog the operator opened, if it is one of this page's `names`; one left open
    on another page is closed rather than shown somewhere it was not asked for."""
    name = st.session_state.get(DIALOG)
    if name is None:
        return
    if name not in names:
        close_dialog()
        return
    _DIALOGS[name](db)
