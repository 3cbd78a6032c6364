"""Kalshi's exchange shards where the trader looks (Overview: the status area and the Kalshi live panel):
each shard's free balance, the transfers on their way, and each shard too short to fund the desk's quotes
there, with the transfer (or the target split) that would fund it, confirmed by typing MOVE: the engine
sends it as the operator's audited command (`move_funds`), and never moves money by itself. Read-only
otherwise (storage/venues/kalshi/funds_queries.py)."""

from __future__ import annotations

import streamlit as st

from charts import text
from contracts.roles import Scope
from pages.widgets.common import flash, may_not, remember_answer
from pages.widgets.controls import post_and_wait
from storage.sqlite.db import Database
from storage.venues.kalshi.funds_queries import Shortfall, kalshi_funds

WORD = "MOVE"


def shortfall_notice(db: Database) -> None:
    """The status area: each shard short of what the desk's quotes there need (a warning)."""
    funds = kalshi_funds(db)
    for short in funds.shortfalls if funds is not None else []:
        st.warning(text.markdown(short.words), icon=":material/account_balance:")


def funds_panel(db: Database, venue: str) -> None:
    """A live venue's panel: its shards, what moves between them, and the offers to fund a short one
    (nothing for a venue whose account has no sections)."""
    funds = kalshi_funds(db, venue)
    if funds is None:
        return
    st.caption("Kalshi keeps the account's money per exchange shard, and an order is funded by its market's shard "
               "alone: " + "; ".join(f"shard {index} ({name}) ${free / 1e6:,.2f}"
                                     for index, (name, free) in sorted(funds.shards.items())) + ".")
    for source, destination, amount in funds.in_flight:
        st.info(f"${amount / 1e6:,.2f} moving from shard {source} to shard {destination}: Kalshi accepted it and "
                "has not credited it yet (the quotes it funds wait for it).", icon=":material/sync_alt:")
    for short in funds.shortfalls:
        _offer(db, venue, short)
    flash(near="kalshi_move_")


def _offer(db: Database, venue: str, short: Shortfall) -> None:
    st.warning(text.markdown(short.words), icon=":material/account_balance:")
    if short.source is None and not short.allocation:
        return
    why_not = may_not(Scope.ADMIN)
    with st.form(f"kalshi_move_{short.shard}", border=True):
        choices = ([f"transfer ${short.amount / 1e6:,.2f} from shard {short.source} to shard {short.shard}"]
                   if short.source is not None else []) + (
            [f"keep the target split {short.allocation}"] if short.allocation else [])
        pick = st.radio("Fund it by", choices, key=f"kalshi_move_pick_{short.shard}")
        typed = st.text_input(f"Type {WORD} to confirm (your name goes to the audit log)",
                              key=f"kalshi_move_word_{short.shard}")
        sent = st.form_submit_button("Move the money", disabled=why_not is not None, help=why_not)
    if not sent:
        return
    if typed.strip() != WORD:
        st.error(f"Not sent: type {WORD} to confirm.")
        return
    if pick is not None and pick.startswith("transfer"):
        payload: dict[str, object] = {"venue": venue, "source": short.source, "destination": short.shard,
                                      "amount": f"{short.amount / 1e6:.2f}", "reason": "funding a short Kalshi shard"}
    else:
        payload = {"venue": venue, "allocation": short.allocation, "reason": "funding a short Kalshi shard"}
    with st.spinner("Asking the engine…"):
        remember_answer(post_and_wait(db, "move_funds", payload, label="Kalshi move"), key="kalshi_move_answer")
    st.rerun()
